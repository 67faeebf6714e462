// Original file: proto/resource/definitions/k8s/k8s.proto

import type { ExtraVolume as _talos_resource_definitions_k8s_ExtraVolume, ExtraVolume__Output as _talos_resource_definitions_k8s_ExtraVolume__Output } from '../../../../talos/resource/definitions/k8s/ExtraVolume.ts';
import type { Resources as _talos_resource_definitions_k8s_Resources, Resources__Output as _talos_resource_definitions_k8s_Resources__Output } from '../../../../talos/resource/definitions/k8s/Resources.ts';
import type { ArgValues as _talos_resource_definitions_k8s_ArgValues, ArgValues__Output as _talos_resource_definitions_k8s_ArgValues__Output } from '../../../../talos/resource/definitions/k8s/ArgValues.ts';
import type { Long } from '@grpc/proto-loader';

export interface APIServerConfigSpec {
  'image'?: (string);
  'cloudProvider'?: (string);
  'controlPlaneEndpoint'?: (string);
  'etcdServers'?: (string)[];
  'localPort'?: (number | string | Long);
  'serviceCidRs'?: (string)[];
  'extraVolumes'?: (_talos_resource_definitions_k8s_ExtraVolume)[];
  'environmentVariables'?: ({[key: string]: string});
  'advertisedAddress'?: (string);
  'resources'?: (_talos_resource_definitions_k8s_Resources | null);
  'extraArgs'?: ({[key: string]: _talos_resource_definitions_k8s_ArgValues});
  'startupProbesEnabled'?: (boolean);
  'useAuthenticationConfig'?: (boolean);
  'args'?: (string)[];
}

export interface APIServerConfigSpec__Output {
  'image': (string);
  'cloudProvider': (string);
  'controlPlaneEndpoint': (string);
  'etcdServers': (string)[];
  'localPort': (string);
  'serviceCidRs': (string)[];
  'extraVolumes': (_talos_resource_definitions_k8s_ExtraVolume__Output)[];
  'environmentVariables': ({[key: string]: string});
  'advertisedAddress': (string);
  'resources': (_talos_resource_definitions_k8s_Resources__Output | null);
  'extraArgs': ({[key: string]: _talos_resource_definitions_k8s_ArgValues__Output});
  'startupProbesEnabled': (boolean);
  'useAuthenticationConfig': (boolean);
  'args': (string)[];
}
