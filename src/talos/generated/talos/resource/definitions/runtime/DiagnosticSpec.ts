// Original file: proto/resource/definitions/runtime/runtime.proto


export interface DiagnosticSpec {
  'message'?: (string);
  'details'?: (string)[];
}

export interface DiagnosticSpec__Output {
  'message': (string);
  'details': (string)[];
}
