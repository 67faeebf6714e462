// Original file: proto/resource/definitions/cluster/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface ControlPlane {
  'apiServerPort'?: (number | string | Long);
}

export interface ControlPlane__Output {
  'apiServerPort': (string);
}
