// Original file: proto/resource/definitions/extensions/extensions.proto

import type { Compatibility as _talos_resource_definitions_extensions_Compatibility, Compatibility__Output as _talos_resource_definitions_extensions_Compatibility__Output } from '../../../../talos/resource/definitions/extensions/Compatibility.ts';

export interface Metadata {
  'name'?: (string);
  'version'?: (string);
  'author'?: (string);
  'description'?: (string);
  'compatibility'?: (_talos_resource_definitions_extensions_Compatibility | null);
  'extraInfo'?: (string);
}

export interface Metadata__Output {
  'name': (string);
  'version': (string);
  'author': (string);
  'description': (string);
  'compatibility': (_talos_resource_definitions_extensions_Compatibility__Output | null);
  'extraInfo': (string);
}
