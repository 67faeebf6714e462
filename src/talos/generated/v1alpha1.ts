import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ServiceSpec as _talos_resource_definitions_v1alpha1_ServiceSpec, ServiceSpec__Output as _talos_resource_definitions_v1alpha1_ServiceSpec__Output } from './talos/resource/definitions/v1alpha1/ServiceSpec.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  talos: {
    resource: {
      definitions: {
        v1alpha1: {
          ServiceSpec: MessageTypeDefinition<_talos_resource_definitions_v1alpha1_ServiceSpec, _talos_resource_definitions_v1alpha1_ServiceSpec__Output>
        }
      }
    }
  }
}

