// Original file: proto/resource/definitions/etcd/etcd.proto


export interface MemberSpec {
  'memberId'?: (string);
}

export interface MemberSpec__Output {
  'memberId': (string);
}
