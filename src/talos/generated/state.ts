import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Event as _cosi_resource_Event, Event__Output as _cosi_resource_Event__Output } from './cosi/resource/Event.ts';
import type { GetOptions as _cosi_resource_GetOptions, GetOptions__Output as _cosi_resource_GetOptions__Output } from './cosi/resource/GetOptions.ts';
import type { GetRequest as _cosi_resource_GetRequest, GetRequest__Output as _cosi_resource_GetRequest__Output } from './cosi/resource/GetRequest.ts';
import type { GetResponse as _cosi_resource_GetResponse, GetResponse__Output as _cosi_resource_GetResponse__Output } from './cosi/resource/GetResponse.ts';
import type { IDQuery as _cosi_resource_IDQuery, IDQuery__Output as _cosi_resource_IDQuery__Output } from './cosi/resource/IDQuery.ts';
import type { LabelQuery as _cosi_resource_LabelQuery, LabelQuery__Output as _cosi_resource_LabelQuery__Output } from './cosi/resource/LabelQuery.ts';
import type { LabelTerm as _cosi_resource_LabelTerm, LabelTerm__Output as _cosi_resource_LabelTerm__Output } from './cosi/resource/LabelTerm.ts';
import type { ListOptions as _cosi_resource_ListOptions, ListOptions__Output as _cosi_resource_ListOptions__Output } from './cosi/resource/ListOptions.ts';
import type { ListRequest as _cosi_resource_ListRequest, ListRequest__Output as _cosi_resource_ListRequest__Output } from './cosi/resource/ListRequest.ts';
import type { ListResponse as _cosi_resource_ListResponse, ListResponse__Output as _cosi_resource_ListResponse__Output } from './cosi/resource/ListResponse.ts';
import type { Metadata as _cosi_resource_Metadata, Metadata__Output as _cosi_resource_Metadata__Output } from './cosi/resource/Metadata.ts';
import type { Resource as _cosi_resource_Resource, Resource__Output as _cosi_resource_Resource__Output } from './cosi/resource/Resource.ts';
import type { Spec as _cosi_resource_Spec, Spec__Output as _cosi_resource_Spec__Output } from './cosi/resource/Spec.ts';
import type { StateClient as _cosi_resource_StateClient, StateDefinition as _cosi_resource_StateDefinition } from './cosi/resource/State.ts';
import type { WatchOptions as _cosi_resource_WatchOptions, WatchOptions__Output as _cosi_resource_WatchOptions__Output } from './cosi/resource/WatchOptions.ts';
import type { WatchRequest as _cosi_resource_WatchRequest, WatchRequest__Output as _cosi_resource_WatchRequest__Output } from './cosi/resource/WatchRequest.ts';
import type { WatchResponse as _cosi_resource_WatchResponse, WatchResponse__Output as _cosi_resource_WatchResponse__Output } from './cosi/resource/WatchResponse.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  cosi: {
    resource: {
      Event: MessageTypeDefinition<_cosi_resource_Event, _cosi_resource_Event__Output>
      EventType: EnumTypeDefinition
      GetOptions: MessageTypeDefinition<_cosi_resource_GetOptions, _cosi_resource_GetOptions__Output>
      GetRequest: MessageTypeDefinition<_cosi_resource_GetRequest, _cosi_resource_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_cosi_resource_GetResponse, _cosi_resource_GetResponse__Output>
      IDQuery: MessageTypeDefinition<_cosi_resource_IDQuery, _cosi_resource_IDQuery__Output>
      LabelQuery: MessageTypeDefinition<_cosi_resource_LabelQuery, _cosi_resource_LabelQuery__Output>
      LabelTerm: MessageTypeDefinition<_cosi_resource_LabelTerm, _cosi_resource_LabelTerm__Output>
      ListOptions: MessageTypeDefinition<_cosi_resource_ListOptions, _cosi_resource_ListOptions__Output>
      ListRequest: MessageTypeDefinition<_cosi_resource_ListRequest, _cosi_resource_ListRequest__Output>
      ListResponse: MessageTypeDefinition<_cosi_resource_ListResponse, _cosi_resource_ListResponse__Output>
      Metadata: MessageTypeDefinition<_cosi_resource_Metadata, _cosi_resource_Metadata__Output>
      Resource: MessageTypeDefinition<_cosi_resource_Resource, _cosi_resource_Resource__Output>
      Spec: MessageTypeDefinition<_cosi_resource_Spec, _cosi_resource_Spec__Output>
      State: SubtypeConstructor<typeof grpc.Client, _cosi_resource_StateClient> & { service: _cosi_resource_StateDefinition }
      WatchOptions: MessageTypeDefinition<_cosi_resource_WatchOptions, _cosi_resource_WatchOptions__Output>
      WatchRequest: MessageTypeDefinition<_cosi_resource_WatchRequest, _cosi_resource_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_cosi_resource_WatchResponse, _cosi_resource_WatchResponse__Output>
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

