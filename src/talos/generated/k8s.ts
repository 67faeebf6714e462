import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct.ts';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value.ts';
import type { APIServerConfigSpec as _talos_resource_definitions_k8s_APIServerConfigSpec, APIServerConfigSpec__Output as _talos_resource_definitions_k8s_APIServerConfigSpec__Output } from './talos/resource/definitions/k8s/APIServerConfigSpec.ts';
import type { ArgValues as _talos_resource_definitions_k8s_ArgValues, ArgValues__Output as _talos_resource_definitions_k8s_ArgValues__Output } from './talos/resource/definitions/k8s/ArgValues.ts';
import type { ControllerManagerConfigSpec as _talos_resource_definitions_k8s_ControllerManagerConfigSpec, ControllerManagerConfigSpec__Output as _talos_resource_definitions_k8s_ControllerManagerConfigSpec__Output } from './talos/resource/definitions/k8s/ControllerManagerConfigSpec.ts';
import type { ExtraVolume as _talos_resource_definitions_k8s_ExtraVolume, ExtraVolume__Output as _talos_resource_definitions_k8s_ExtraVolume__Output } from './talos/resource/definitions/k8s/ExtraVolume.ts';
import type { KubeletSpecSpec as _talos_resource_definitions_k8s_KubeletSpecSpec, KubeletSpecSpec__Output as _talos_resource_definitions_k8s_KubeletSpecSpec__Output } from './talos/resource/definitions/k8s/KubeletSpecSpec.ts';
import type { ManifestSpec as _talos_resource_definitions_k8s_ManifestSpec, ManifestSpec__Output as _talos_resource_definitions_k8s_ManifestSpec__Output } from './talos/resource/definitions/k8s/ManifestSpec.ts';
import type { NodenameSpec as _talos_resource_definitions_k8s_NodenameSpec, NodenameSpec__Output as _talos_resource_definitions_k8s_NodenameSpec__Output } from './talos/resource/definitions/k8s/NodenameSpec.ts';
import type { Resources as _talos_resource_definitions_k8s_Resources, Resources__Output as _talos_resource_definitions_k8s_Resources__Output } from './talos/resource/definitions/k8s/Resources.ts';
import type { SchedulerConfigSpec as _talos_resource_definitions_k8s_SchedulerConfigSpec, SchedulerConfigSpec__Output as _talos_resource_definitions_k8s_SchedulerConfigSpec__Output } from './talos/resource/definitions/k8s/SchedulerConfigSpec.ts';
import type { SingleManifest as _talos_resource_definitions_k8s_SingleManifest, SingleManifest__Output as _talos_resource_definitions_k8s_SingleManifest__Output } from './talos/resource/definitions/k8s/SingleManifest.ts';
import type { StaticPodSpec as _talos_resource_definitions_k8s_StaticPodSpec, StaticPodSpec__Output as _talos_resource_definitions_k8s_StaticPodSpec__Output } from './talos/resource/definitions/k8s/StaticPodSpec.ts';
import type { StaticPodStatusSpec as _talos_resource_definitions_k8s_StaticPodStatusSpec, StaticPodStatusSpec__Output as _talos_resource_definitions_k8s_StaticPodStatusSpec__Output } from './talos/resource/definitions/k8s/StaticPodStatusSpec.ts';
import type { LinuxIDMapping as _talos_resource_definitions_proto_LinuxIDMapping, LinuxIDMapping__Output as _talos_resource_definitions_proto_LinuxIDMapping__Output } from './talos/resource/definitions/proto/LinuxIDMapping.ts';
import type { Mount as _talos_resource_definitions_proto_Mount, Mount__Output as _talos_resource_definitions_proto_Mount__Output } from './talos/resource/definitions/proto/Mount.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
  talos: {
    resource: {
      definitions: {
        k8s: {
          APIServerConfigSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_APIServerConfigSpec, _talos_resource_definitions_k8s_APIServerConfigSpec__Output>
          ArgValues: MessageTypeDefinition<_talos_resource_definitions_k8s_ArgValues, _talos_resource_definitions_k8s_ArgValues__Output>
          ControllerManagerConfigSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_ControllerManagerConfigSpec, _talos_resource_definitions_k8s_ControllerManagerConfigSpec__Output>
          ExtraVolume: MessageTypeDefinition<_talos_resource_definitions_k8s_ExtraVolume, _talos_resource_definitions_k8s_ExtraVolume__Output>
          KubeletSpecSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_KubeletSpecSpec, _talos_resource_definitions_k8s_KubeletSpecSpec__Output>
          ManifestSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_ManifestSpec, _talos_resource_definitions_k8s_ManifestSpec__Output>
          NodenameSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_NodenameSpec, _talos_resource_definitions_k8s_NodenameSpec__Output>
          Resources: MessageTypeDefinition<_talos_resource_definitions_k8s_Resources, _talos_resource_definitions_k8s_Resources__Output>
          SchedulerConfigSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_SchedulerConfigSpec, _talos_resource_definitions_k8s_SchedulerConfigSpec__Output>
          SingleManifest: MessageTypeDefinition<_talos_resource_definitions_k8s_SingleManifest, _talos_resource_definitions_k8s_SingleManifest__Output>
          StaticPodSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_StaticPodSpec, _talos_resource_definitions_k8s_StaticPodSpec__Output>
          StaticPodStatusSpec: MessageTypeDefinition<_talos_resource_definitions_k8s_StaticPodStatusSpec, _talos_resource_definitions_k8s_StaticPodStatusSpec__Output>
        }
        proto: {
          LinuxIDMapping: MessageTypeDefinition<_talos_resource_definitions_proto_LinuxIDMapping, _talos_resource_definitions_proto_LinuxIDMapping__Output>
          Mount: MessageTypeDefinition<_talos_resource_definitions_proto_Mount, _talos_resource_definitions_proto_Mount__Output>
        }
      }
    }
  }
}

