import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { MemberSpec as _talos_resource_definitions_etcd_MemberSpec, MemberSpec__Output as _talos_resource_definitions_etcd_MemberSpec__Output } from './talos/resource/definitions/etcd/MemberSpec.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  talos: {
    resource: {
      definitions: {
        etcd: {
          MemberSpec: MessageTypeDefinition<_talos_resource_definitions_etcd_MemberSpec, _talos_resource_definitions_etcd_MemberSpec__Output>
        }
      }
    }
  }
}

