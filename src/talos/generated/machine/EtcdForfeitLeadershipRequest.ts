// Original file: proto/machine/machine.proto


export interface EtcdForfeitLeadershipRequest {
}

export interface EtcdForfeitLeadershipRequest__Output {
}
