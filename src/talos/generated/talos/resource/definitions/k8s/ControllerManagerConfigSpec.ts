// Original file: proto/resource/definitions/k8s/k8s.proto

import type { ExtraVolume as _talos_resource_definitions_k8s_ExtraVolume, ExtraVolume__Output as _talos_resource_definitions_k8s_ExtraVolume__Output } from '../../../../talos/resource/definitions/k8s/ExtraVolume.ts';
import type { Resources as _talos_resource_definitions_k8s_Resources, Resources__Output as _talos_resource_definitions_k8s_Resources__Output } from '../../../../talos/resource/definitions/k8s/Resources.ts';
import type { ArgValues as _talos_resource_definitions_k8s_ArgValues, ArgValues__Output as _talos_resource_definitions_k8s_ArgValues__Output } from '../../../../talos/resource/definitions/k8s/ArgValues.ts';
import type { Long } from '@grpc/proto-loader';

export interface ControllerManagerConfigSpec {
  'enabled'?: (boolean);
  'image'?: (string);
  'cloudProvider'?: (string);
  'podCidRs'?: (string)[];
  'serviceCidRs'?: (string)[];
  'extraVolumes'?: (_talos_resource_definitions_k8s_ExtraVolume)[];
  'environmentVariables'?: ({[key: string]: string});
  'resources'?: (_talos_resource_definitions_k8s_Resources | null);
  'extraArgs'?: ({[key: string]: _talos_resource_definitions_k8s_ArgValues});
  'args'?: (string)[];
  'nodeCidrMaskSizeIPv4'?: (number | string | Long);
  'nodeCidrMaskSizeIPv6'?: (number | string | Long);
}

export interface ControllerManagerConfigSpec__Output {
  'enabled': (boolean);
  'image': (string);
  'cloudProvider': (string);
  'podCidRs': (string)[];
  'serviceCidRs': (string)[];
  'extraVolumes': (_talos_resource_definitions_k8s_ExtraVolume__Output)[];
  'environmentVariables': ({[key: string]: string});
  'resources': (_talos_resource_definitions_k8s_Resources__Output | null);
  'extraArgs': ({[key: string]: _talos_resource_definitions_k8s_ArgValues__Output});
  'args': (string)[];
  'nodeCidrMaskSizeIPv4': (string);
  'nodeCidrMaskSizeIPv6': (string);
}
