// Original file: proto/resource/definitions/k8s/k8s.proto


export interface NodenameSpec {
  'nodename'?: (string);
  'hostnameVersion'?: (string);
  'skipNodeRegistration'?: (boolean);
}

export interface NodenameSpec__Output {
  'nodename': (string);
  'hostnameVersion': (string);
  'skipNodeRegistration': (boolean);
}
