// Original file: proto/resource/definitions/k8s/k8s.proto


export interface Resources {
  'requests'?: ({[key: string]: string});
  'limits'?: ({[key: string]: string});
}

export interface Resources__Output {
  'requests': ({[key: string]: string});
  'limits': ({[key: string]: string});
}
