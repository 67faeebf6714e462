// Original file: proto/resource/definitions/extensions/extensions.proto

import type { Metadata as _talos_resource_definitions_extensions_Metadata, Metadata__Output as _talos_resource_definitions_extensions_Metadata__Output } from '../../../../talos/resource/definitions/extensions/Metadata.ts';

export interface Layer {
  'image'?: (string);
  'metadata'?: (_talos_resource_definitions_extensions_Metadata | null);
}

export interface Layer__Output {
  'image': (string);
  'metadata': (_talos_resource_definitions_extensions_Metadata__Output | null);
}
