// Original file: proto/machine/machine.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyConfigurationRequest as _machine_ApplyConfigurationRequest, ApplyConfigurationRequest__Output as _machine_ApplyConfigurationRequest__Output } from '../machine/ApplyConfigurationRequest.ts';
import type { ApplyConfigurationResponse as _machine_ApplyConfigurationResponse, ApplyConfigurationResponse__Output as _machine_ApplyConfigurationResponse__Output } from '../machine/ApplyConfigurationResponse.ts';
import type { Data as _common_Data, Data__Output as _common_Data__Output } from '../common/Data.ts';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from '../google/protobuf/Empty.ts';
import type { EtcdAlarmListResponse as _machine_EtcdAlarmListResponse, EtcdAlarmListResponse__Output as _machine_EtcdAlarmListResponse__Output } from '../machine/EtcdAlarmListResponse.ts';
import type { EtcdForfeitLeadershipRequest as _machine_EtcdForfeitLeadershipRequest, EtcdForfeitLeadershipRequest__Output as _machine_EtcdForfeitLeadershipRequest__Output } from '../machine/EtcdForfeitLeadershipRequest.ts';
import type { EtcdForfeitLeadershipResponse as _machine_EtcdForfeitLeadershipResponse, EtcdForfeitLeadershipResponse__Output as _machine_EtcdForfeitLeadershipResponse__Output } from '../machine/EtcdForfeitLeadershipResponse.ts';
import type { EtcdMemberListRequest as _machine_EtcdMemberListRequest, EtcdMemberListRequest__Output as _machine_EtcdMemberListRequest__Output } from '../machine/EtcdMemberListRequest.ts';
import type { EtcdMemberListResponse as _machine_EtcdMemberListResponse, EtcdMemberListResponse__Output as _machine_EtcdMemberListResponse__Output } from '../machine/EtcdMemberListResponse.ts';
import type { EtcdSnapshotRequest as _machine_EtcdSnapshotRequest, EtcdSnapshotRequest__Output as _machine_EtcdSnapshotRequest__Output } from '../machine/EtcdSnapshotRequest.ts';
import type { EtcdStatusResponse as _machine_EtcdStatusResponse, EtcdStatusResponse__Output as _machine_EtcdStatusResponse__Output } from '../machine/EtcdStatusResponse.ts';
import type { Event as _machine_Event, Event__Output as _machine_Event__Output } from '../machine/Event.ts';
import type { EventsRequest as _machine_EventsRequest, EventsRequest__Output as _machine_EventsRequest__Output } from '../machine/EventsRequest.ts';
import type { HostnameResponse as _machine_HostnameResponse, HostnameResponse__Output as _machine_HostnameResponse__Output } from '../machine/HostnameResponse.ts';
import type { ImagePullRequest as _machine_ImagePullRequest, ImagePullRequest__Output as _machine_ImagePullRequest__Output } from '../machine/ImagePullRequest.ts';
import type { ImagePullResponse as _machine_ImagePullResponse, ImagePullResponse__Output as _machine_ImagePullResponse__Output } from '../machine/ImagePullResponse.ts';
import type { ReadRequest as _machine_ReadRequest, ReadRequest__Output as _machine_ReadRequest__Output } from '../machine/ReadRequest.ts';
import type { RebootRequest as _machine_RebootRequest, RebootRequest__Output as _machine_RebootRequest__Output } from '../machine/RebootRequest.ts';
import type { RebootResponse as _machine_RebootResponse, RebootResponse__Output as _machine_RebootResponse__Output } from '../machine/RebootResponse.ts';
import type { RollbackRequest as _machine_RollbackRequest, RollbackRequest__Output as _machine_RollbackRequest__Output } from '../machine/RollbackRequest.ts';
import type { RollbackResponse as _machine_RollbackResponse, RollbackResponse__Output as _machine_RollbackResponse__Output } from '../machine/RollbackResponse.ts';
import type { ServiceListResponse as _machine_ServiceListResponse, ServiceListResponse__Output as _machine_ServiceListResponse__Output } from '../machine/ServiceListResponse.ts';
import type { UpgradeRequest as _machine_UpgradeRequest, UpgradeRequest__Output as _machine_UpgradeRequest__Output } from '../machine/UpgradeRequest.ts';
import type { UpgradeResponse as _machine_UpgradeResponse, UpgradeResponse__Output as _machine_UpgradeResponse__Output } from '../machine/UpgradeResponse.ts';
import type { VersionResponse as _machine_VersionResponse, VersionResponse__Output as _machine_VersionResponse__Output } from '../machine/VersionResponse.ts';

export interface MachineServiceClient extends grpc.Client {
  ApplyConfiguration(argument: _machine_ApplyConfigurationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ApplyConfiguration(argument: _machine_ApplyConfigurationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ApplyConfiguration(argument: _machine_ApplyConfigurationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ApplyConfiguration(argument: _machine_ApplyConfigurationRequest, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  applyConfiguration(argument: _machine_ApplyConfigurationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  applyConfiguration(argument: _machine_ApplyConfigurationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  applyConfiguration(argument: _machine_ApplyConfigurationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  applyConfiguration(argument: _machine_ApplyConfigurationRequest, callback: grpc.requestCallback<_machine_ApplyConfigurationResponse__Output>): grpc.ClientUnaryCall;
  
  EtcdAlarmList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  EtcdAlarmList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  EtcdAlarmList(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  EtcdAlarmList(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  etcdAlarmList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  etcdAlarmList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  etcdAlarmList(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  etcdAlarmList(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_EtcdAlarmListResponse__Output>): grpc.ClientUnaryCall;
  
  EtcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  EtcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  EtcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  EtcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  etcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  etcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  etcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  etcdForfeitLeadership(argument: _machine_EtcdForfeitLeadershipRequest, callback: grpc.requestCallback<_machine_EtcdForfeitLeadershipResponse__Output>): grpc.ClientUnaryCall;
  
  EtcdMemberList(argument: _machine_EtcdMemberListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  EtcdMemberList(argument: _machine_EtcdMemberListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  EtcdMemberList(argument: _machine_EtcdMemberListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  EtcdMemberList(argument: _machine_EtcdMemberListRequest, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  etcdMemberList(argument: _machine_EtcdMemberListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  etcdMemberList(argument: _machine_EtcdMemberListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  etcdMemberList(argument: _machine_EtcdMemberListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  etcdMemberList(argument: _machine_EtcdMemberListRequest, callback: grpc.requestCallback<_machine_EtcdMemberListResponse__Output>): grpc.ClientUnaryCall;
  
  EtcdSnapshot(argument: _machine_EtcdSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  EtcdSnapshot(argument: _machine_EtcdSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  etcdSnapshot(argument: _machine_EtcdSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  etcdSnapshot(argument: _machine_EtcdSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  
  EtcdStatus(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  EtcdStatus(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  EtcdStatus(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  EtcdStatus(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  etcdStatus(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  etcdStatus(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  etcdStatus(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  etcdStatus(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_EtcdStatusResponse__Output>): grpc.ClientUnaryCall;
  
  Events(argument: _machine_EventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_Event__Output>;
  Events(argument: _machine_EventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_Event__Output>;
  events(argument: _machine_EventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_Event__Output>;
  events(argument: _machine_EventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_Event__Output>;
  
  Hostname(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  Hostname(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  Hostname(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  Hostname(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  hostname(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  hostname(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  hostname(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  hostname(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_HostnameResponse__Output>): grpc.ClientUnaryCall;
  
  ImagePull(argument: _machine_ImagePullRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  ImagePull(argument: _machine_ImagePullRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  ImagePull(argument: _machine_ImagePullRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  ImagePull(argument: _machine_ImagePullRequest, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  imagePull(argument: _machine_ImagePullRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  imagePull(argument: _machine_ImagePullRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  imagePull(argument: _machine_ImagePullRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  imagePull(argument: _machine_ImagePullRequest, callback: grpc.requestCallback<_machine_ImagePullResponse__Output>): grpc.ClientUnaryCall;
  
  Kubeconfig(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  Kubeconfig(argument: _google_protobuf_Empty, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  kubeconfig(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  kubeconfig(argument: _google_protobuf_Empty, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  
  Read(argument: _machine_ReadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  Read(argument: _machine_ReadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  read(argument: _machine_ReadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  read(argument: _machine_ReadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_common_Data__Output>;
  
  Reboot(argument: _machine_RebootRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  Reboot(argument: _machine_RebootRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  Reboot(argument: _machine_RebootRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  Reboot(argument: _machine_RebootRequest, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  reboot(argument: _machine_RebootRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  reboot(argument: _machine_RebootRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  reboot(argument: _machine_RebootRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  reboot(argument: _machine_RebootRequest, callback: grpc.requestCallback<_machine_RebootResponse__Output>): grpc.ClientUnaryCall;
  
  Rollback(argument: _machine_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _machine_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _machine_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _machine_RollbackRequest, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _machine_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _machine_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _machine_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _machine_RollbackRequest, callback: grpc.requestCallback<_machine_RollbackResponse__Output>): grpc.ClientUnaryCall;
  
  ServiceList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  ServiceList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  ServiceList(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  ServiceList(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  serviceList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  serviceList(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  serviceList(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  serviceList(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_ServiceListResponse__Output>): grpc.ClientUnaryCall;
  
  Upgrade(argument: _machine_UpgradeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  Upgrade(argument: _machine_UpgradeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  Upgrade(argument: _machine_UpgradeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  Upgrade(argument: _machine_UpgradeRequest, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  upgrade(argument: _machine_UpgradeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  upgrade(argument: _machine_UpgradeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  upgrade(argument: _machine_UpgradeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  upgrade(argument: _machine_UpgradeRequest, callback: grpc.requestCallback<_machine_UpgradeResponse__Output>): grpc.ClientUnaryCall;
  
  Version(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _google_protobuf_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _google_protobuf_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _google_protobuf_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _google_protobuf_Empty, callback: grpc.requestCallback<_machine_VersionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface MachineServiceHandlers extends grpc.UntypedServiceImplementation {
  ApplyConfiguration: grpc.handleUnaryCall<_machine_ApplyConfigurationRequest__Output, _machine_ApplyConfigurationResponse>;
  
  EtcdAlarmList: grpc.handleUnaryCall<_google_protobuf_Empty__Output, _machine_EtcdAlarmListResponse>;
  
  EtcdForfeitLeadership: grpc.handleUnaryCall<_machine_EtcdForfeitLeadershipRequest__Output, _machine_EtcdForfeitLeadershipResponse>;
  
  EtcdMemberList: grpc.handleUnaryCall<_machine_EtcdMemberListRequest__Output, _machine_EtcdMemberListResponse>;
  
  EtcdSnapshot: grpc.handleServerStreamingCall<_machine_EtcdSnapshotRequest__Output, _common_Data>;
  
  EtcdStatus: grpc.handleUnaryCall<_google_protobuf_Empty__Output, _machine_EtcdStatusResponse>;
  
  Events: grpc.handleServerStreamingCall<_machine_EventsRequest__Output, _machine_Event>;
  
  Hostname: grpc.handleUnaryCall<_google_protobuf_Empty__Output, _machine_HostnameResponse>;
  
  ImagePull: grpc.handleUnaryCall<_machine_ImagePullRequest__Output, _machine_ImagePullResponse>;
  
  Kubeconfig: grpc.handleServerStreamingCall<_google_protobuf_Empty__Output, _common_Data>;
  
  Read: grpc.handleServerStreamingCall<_machine_ReadRequest__Output, _common_Data>;
  
  Reboot: grpc.handleUnaryCall<_machine_RebootRequest__Output, _machine_RebootResponse>;
  
  Rollback: grpc.handleUnaryCall<_machine_RollbackRequest__Output, _machine_RollbackResponse>;
  
  ServiceList: grpc.handleUnaryCall<_google_protobuf_Empty__Output, _machine_ServiceListResponse>;
  
  Upgrade: grpc.handleUnaryCall<_machine_UpgradeRequest__Output, _machine_UpgradeResponse>;
  
  Version: grpc.handleUnaryCall<_google_protobuf_Empty__Output, _machine_VersionResponse>;
  
}

export interface MachineServiceDefinition extends grpc.ServiceDefinition {
  ApplyConfiguration: MethodDefinition<_machine_ApplyConfigurationRequest, _machine_ApplyConfigurationResponse, _machine_ApplyConfigurationRequest__Output, _machine_ApplyConfigurationResponse__Output>
  EtcdAlarmList: MethodDefinition<_google_protobuf_Empty, _machine_EtcdAlarmListResponse, _google_protobuf_Empty__Output, _machine_EtcdAlarmListResponse__Output>
  EtcdForfeitLeadership: MethodDefinition<_machine_EtcdForfeitLeadershipRequest, _machine_EtcdForfeitLeadershipResponse, _machine_EtcdForfeitLeadershipRequest__Output, _machine_EtcdForfeitLeadershipResponse__Output>
  EtcdMemberList: MethodDefinition<_machine_EtcdMemberListRequest, _machine_EtcdMemberListResponse, _machine_EtcdMemberListRequest__Output, _machine_EtcdMemberListResponse__Output>
  EtcdSnapshot: MethodDefinition<_machine_EtcdSnapshotRequest, _common_Data, _machine_EtcdSnapshotRequest__Output, _common_Data__Output>
  EtcdStatus: MethodDefinition<_google_protobuf_Empty, _machine_EtcdStatusResponse, _google_protobuf_Empty__Output, _machine_EtcdStatusResponse__Output>
  Events: MethodDefinition<_machine_EventsRequest, _machine_Event, _machine_EventsRequest__Output, _machine_Event__Output>
  Hostname: MethodDefinition<_google_protobuf_Empty, _machine_HostnameResponse, _google_protobuf_Empty__Output, _machine_HostnameResponse__Output>
  ImagePull: MethodDefinition<_machine_ImagePullRequest, _machine_ImagePullResponse, _machine_ImagePullRequest__Output, _machine_ImagePullResponse__Output>
  Kubeconfig: MethodDefinition<_google_protobuf_Empty, _common_Data, _google_protobuf_Empty__Output, _common_Data__Output>
  Read: MethodDefinition<_machine_ReadRequest, _common_Data, _machine_ReadRequest__Output, _common_Data__Output>
  Reboot: MethodDefinition<_machine_RebootRequest, _machine_RebootResponse, _machine_RebootRequest__Output, _machine_RebootResponse__Output>
  Rollback: MethodDefinition<_machine_RollbackRequest, _machine_RollbackResponse, _machine_RollbackRequest__Output, _machine_RollbackResponse__Output>
  ServiceList: MethodDefinition<_google_protobuf_Empty, _machine_ServiceListResponse, _google_protobuf_Empty__Output, _machine_ServiceListResponse__Output>
  Upgrade: MethodDefinition<_machine_UpgradeRequest, _machine_UpgradeResponse, _machine_UpgradeRequest__Output, _machine_UpgradeResponse__Output>
  Version: MethodDefinition<_google_protobuf_Empty, _machine_VersionResponse, _google_protobuf_Empty__Output, _machine_VersionResponse__Output>
}
