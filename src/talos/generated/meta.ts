import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { NamespaceSpec as _cosi_resource_meta_NamespaceSpec, NamespaceSpec__Output as _cosi_resource_meta_NamespaceSpec__Output } from './cosi/resource/meta/NamespaceSpec.ts';
import type { ResourceDefinitionSpec as _cosi_resource_meta_ResourceDefinitionSpec, ResourceDefinitionSpec__Output as _cosi_resource_meta_ResourceDefinitionSpec__Output } from './cosi/resource/meta/ResourceDefinitionSpec.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  cosi: {
    resource: {
      meta: {
        NamespaceSpec: MessageTypeDefinition<_cosi_resource_meta_NamespaceSpec, _cosi_resource_meta_NamespaceSpec__Output>
        ResourceDefinitionSpec: MessageTypeDefinition<_cosi_resource_meta_ResourceDefinitionSpec, _cosi_resource_meta_ResourceDefinitionSpec__Output>
      }
    }
  }
}

