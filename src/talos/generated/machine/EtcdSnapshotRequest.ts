// Original file: proto/machine/machine.proto


export interface EtcdSnapshotRequest {
}

export interface EtcdSnapshotRequest__Output {
}
