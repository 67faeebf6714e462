// Original file: proto/resource/definitions/k8s/k8s.proto


export interface ExtraVolume {
  'name'?: (string);
  'hostPath'?: (string);
  'mountPath'?: (string);
  'readOnly'?: (boolean);
}

export interface ExtraVolume__Output {
  'name': (string);
  'hostPath': (string);
  'mountPath': (string);
  'readOnly': (boolean);
}
