// Original file: proto/machine/machine.proto

import type { Metadata as _common_Metadata, Metadata__Output as _common_Metadata__Output } from '../common/Metadata.ts';

export interface Reboot {
  'metadata'?: (_common_Metadata | null);
  'actorId'?: (string);
}

export interface Reboot__Output {
  'metadata': (_common_Metadata__Output | null);
  'actorId': (string);
}
