// Original file: proto/resource/definitions/runtime/runtime.proto


export interface SecurityStateSpec {
  'secureBoot'?: (boolean);
  'bootedWithUki'?: (boolean);
}

export interface SecurityStateSpec__Output {
  'secureBoot': (boolean);
  'bootedWithUki': (boolean);
}
