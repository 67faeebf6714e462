import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ContainerdInstance as _common_ContainerdInstance, ContainerdInstance__Output as _common_ContainerdInstance__Output } from './common/ContainerdInstance.ts';
import type { Data as _common_Data, Data__Output as _common_Data__Output } from './common/Data.ts';
import type { DataResponse as _common_DataResponse, DataResponse__Output as _common_DataResponse__Output } from './common/DataResponse.ts';
import type { Empty as _common_Empty, Empty__Output as _common_Empty__Output } from './common/Empty.ts';
import type { EmptyResponse as _common_EmptyResponse, EmptyResponse__Output as _common_EmptyResponse__Output } from './common/EmptyResponse.ts';
import type { Error as _common_Error, Error__Output as _common_Error__Output } from './common/Error.ts';
import type { Metadata as _common_Metadata, Metadata__Output as _common_Metadata__Output } from './common/Metadata.ts';
import type { NetIP as _common_NetIP, NetIP__Output as _common_NetIP__Output } from './common/NetIP.ts';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.ts';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration.ts';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from './google/rpc/Status.ts';
import type { ImageServiceClient as _machine_ImageServiceClient, ImageServiceDefinition as _machine_ImageServiceDefinition } from './machine/ImageService.ts';
import type { ImageServicePullLayerProgress as _machine_ImageServicePullLayerProgress, ImageServicePullLayerProgress__Output as _machine_ImageServicePullLayerProgress__Output } from './machine/ImageServicePullLayerProgress.ts';
import type { ImageServicePullProgress as _machine_ImageServicePullProgress, ImageServicePullProgress__Output as _machine_ImageServicePullProgress__Output } from './machine/ImageServicePullProgress.ts';
import type { ImageServicePullRequest as _machine_ImageServicePullRequest, ImageServicePullRequest__Output as _machine_ImageServicePullRequest__Output } from './machine/ImageServicePullRequest.ts';
import type { ImageServicePullResponse as _machine_ImageServicePullResponse, ImageServicePullResponse__Output as _machine_ImageServicePullResponse__Output } from './machine/ImageServicePullResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  common: {
    Code: EnumTypeDefinition
    ContainerDriver: EnumTypeDefinition
    ContainerdInstance: MessageTypeDefinition<_common_ContainerdInstance, _common_ContainerdInstance__Output>
    ContainerdNamespace: EnumTypeDefinition
    Data: MessageTypeDefinition<_common_Data, _common_Data__Output>
    DataResponse: MessageTypeDefinition<_common_DataResponse, _common_DataResponse__Output>
    Empty: MessageTypeDefinition<_common_Empty, _common_Empty__Output>
    EmptyResponse: MessageTypeDefinition<_common_EmptyResponse, _common_EmptyResponse__Output>
    Error: MessageTypeDefinition<_common_Error, _common_Error__Output>
    Metadata: MessageTypeDefinition<_common_Metadata, _common_Metadata__Output>
    NetIP: MessageTypeDefinition<_common_NetIP, _common_NetIP__Output>
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
    }
    rpc: {
      Status: MessageTypeDefinition<_google_rpc_Status, _google_rpc_Status__Output>
    }
  }
  machine: {
    ImageService: SubtypeConstructor<typeof grpc.Client, _machine_ImageServiceClient> & { service: _machine_ImageServiceDefinition }
    ImageServicePullLayerProgress: MessageTypeDefinition<_machine_ImageServicePullLayerProgress, _machine_ImageServicePullLayerProgress__Output>
    ImageServicePullProgress: MessageTypeDefinition<_machine_ImageServicePullProgress, _machine_ImageServicePullProgress__Output>
    ImageServicePullRequest: MessageTypeDefinition<_machine_ImageServicePullRequest, _machine_ImageServicePullRequest__Output>
    ImageServicePullResponse: MessageTypeDefinition<_machine_ImageServicePullResponse, _machine_ImageServicePullResponse__Output>
  }
}

