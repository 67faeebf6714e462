// Original file: proto/resource/definitions/k8s/k8s.proto

import type { ExtraVolume as _talos_resource_definitions_k8s_ExtraVolume, ExtraVolume__Output as _talos_resource_definitions_k8s_ExtraVolume__Output } from '../../../../talos/resource/definitions/k8s/ExtraVolume.ts';
import type { Resources as _talos_resource_definitions_k8s_Resources, Resources__Output as _talos_resource_definitions_k8s_Resources__Output } from '../../../../talos/resource/definitions/k8s/Resources.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.ts';
import type { ArgValues as _talos_resource_definitions_k8s_ArgValues, ArgValues__Output as _talos_resource_definitions_k8s_ArgValues__Output } from '../../../../talos/resource/definitions/k8s/ArgValues.ts';

export interface SchedulerConfigSpec {
  'enabled'?: (boolean);
  'image'?: (string);
  'extraVolumes'?: (_talos_resource_definitions_k8s_ExtraVolume)[];
  'environmentVariables'?: ({[key: string]: string});
  'resources'?: (_talos_resource_definitions_k8s_Resources | null);
  'config'?: (_google_protobuf_Struct | null);
  'extraArgs'?: ({[key: string]: _talos_resource_definitions_k8s_ArgValues});
  'args'?: (string)[];
}

export interface SchedulerConfigSpec__Output {
  'enabled': (boolean);
  'image': (string);
  'extraVolumes': (_talos_resource_definitions_k8s_ExtraVolume__Output)[];
  'environmentVariables': ({[key: string]: string});
  'resources': (_talos_resource_definitions_k8s_Resources__Output | null);
  'config': (_google_protobuf_Struct__Output | null);
  'extraArgs': ({[key: string]: _talos_resource_definitions_k8s_ArgValues__Output});
  'args': (string)[];
}
