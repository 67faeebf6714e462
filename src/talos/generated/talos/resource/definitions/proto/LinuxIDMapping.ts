// Original file: proto/resource/definitions/proto/proto.proto


export interface LinuxIDMapping {
  'containerId'?: (number);
  'hostId'?: (number);
  'size'?: (number);
}

export interface LinuxIDMapping__Output {
  'containerId': (number);
  'hostId': (number);
  'size': (number);
}
