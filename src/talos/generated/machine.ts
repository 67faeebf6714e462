import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ContainerdInstance as _common_ContainerdInstance, ContainerdInstance__Output as _common_ContainerdInstance__Output } from './common/ContainerdInstance.ts';
import type { Data as _common_Data, Data__Output as _common_Data__Output } from './common/Data.ts';
import type { DataResponse as _common_DataResponse, DataResponse__Output as _common_DataResponse__Output } from './common/DataResponse.ts';
import type { Empty as _common_Empty, Empty__Output as _common_Empty__Output } from './common/Empty.ts';
import type { EmptyResponse as _common_EmptyResponse, EmptyResponse__Output as _common_EmptyResponse__Output } from './common/EmptyResponse.ts';
import type { Error as _common_Error, Error__Output as _common_Error__Output } from './common/Error.ts';
import type { Metadata as _common_Metadata, Metadata__Output as _common_Metadata__Output } from './common/Metadata.ts';
import type { NetIP as _common_NetIP, NetIP__Output as _common_NetIP__Output } from './common/NetIP.ts';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.ts';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration.ts';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from './google/protobuf/Empty.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.ts';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from './google/rpc/Status.ts';
import type { AddressEvent as _machine_AddressEvent, AddressEvent__Output as _machine_AddressEvent__Output } from './machine/AddressEvent.ts';
import type { ApplyConfiguration as _machine_ApplyConfiguration, ApplyConfiguration__Output as _machine_ApplyConfiguration__Output } from './machine/ApplyConfiguration.ts';
import type { ApplyConfigurationRequest as _machine_ApplyConfigurationRequest, ApplyConfigurationRequest__Output as _machine_ApplyConfigurationRequest__Output } from './machine/ApplyConfigurationRequest.ts';
import type { ApplyConfigurationResponse as _machine_ApplyConfigurationResponse, ApplyConfigurationResponse__Output as _machine_ApplyConfigurationResponse__Output } from './machine/ApplyConfigurationResponse.ts';
import type { ConfigLoadErrorEvent as _machine_ConfigLoadErrorEvent, ConfigLoadErrorEvent__Output as _machine_ConfigLoadErrorEvent__Output } from './machine/ConfigLoadErrorEvent.ts';
import type { ConfigValidationErrorEvent as _machine_ConfigValidationErrorEvent, ConfigValidationErrorEvent__Output as _machine_ConfigValidationErrorEvent__Output } from './machine/ConfigValidationErrorEvent.ts';
import type { EtcdAlarm as _machine_EtcdAlarm, EtcdAlarm__Output as _machine_EtcdAlarm__Output } from './machine/EtcdAlarm.ts';
import type { EtcdAlarmListResponse as _machine_EtcdAlarmListResponse, EtcdAlarmListResponse__Output as _machine_EtcdAlarmListResponse__Output } from './machine/EtcdAlarmListResponse.ts';
import type { EtcdForfeitLeadership as _machine_EtcdForfeitLeadership, EtcdForfeitLeadership__Output as _machine_EtcdForfeitLeadership__Output } from './machine/EtcdForfeitLeadership.ts';
import type { EtcdForfeitLeadershipRequest as _machine_EtcdForfeitLeadershipRequest, EtcdForfeitLeadershipRequest__Output as _machine_EtcdForfeitLeadershipRequest__Output } from './machine/EtcdForfeitLeadershipRequest.ts';
import type { EtcdForfeitLeadershipResponse as _machine_EtcdForfeitLeadershipResponse, EtcdForfeitLeadershipResponse__Output as _machine_EtcdForfeitLeadershipResponse__Output } from './machine/EtcdForfeitLeadershipResponse.ts';
import type { EtcdMember as _machine_EtcdMember, EtcdMember__Output as _machine_EtcdMember__Output } from './machine/EtcdMember.ts';
import type { EtcdMemberAlarm as _machine_EtcdMemberAlarm, EtcdMemberAlarm__Output as _machine_EtcdMemberAlarm__Output } from './machine/EtcdMemberAlarm.ts';
import type { EtcdMemberListRequest as _machine_EtcdMemberListRequest, EtcdMemberListRequest__Output as _machine_EtcdMemberListRequest__Output } from './machine/EtcdMemberListRequest.ts';
import type { EtcdMemberListResponse as _machine_EtcdMemberListResponse, EtcdMemberListResponse__Output as _machine_EtcdMemberListResponse__Output } from './machine/EtcdMemberListResponse.ts';
import type { EtcdMemberStatus as _machine_EtcdMemberStatus, EtcdMemberStatus__Output as _machine_EtcdMemberStatus__Output } from './machine/EtcdMemberStatus.ts';
import type { EtcdMembers as _machine_EtcdMembers, EtcdMembers__Output as _machine_EtcdMembers__Output } from './machine/EtcdMembers.ts';
import type { EtcdSnapshotRequest as _machine_EtcdSnapshotRequest, EtcdSnapshotRequest__Output as _machine_EtcdSnapshotRequest__Output } from './machine/EtcdSnapshotRequest.ts';
import type { EtcdStatus as _machine_EtcdStatus, EtcdStatus__Output as _machine_EtcdStatus__Output } from './machine/EtcdStatus.ts';
import type { EtcdStatusResponse as _machine_EtcdStatusResponse, EtcdStatusResponse__Output as _machine_EtcdStatusResponse__Output } from './machine/EtcdStatusResponse.ts';
import type { Event as _machine_Event, Event__Output as _machine_Event__Output } from './machine/Event.ts';
import type { EventsRequest as _machine_EventsRequest, EventsRequest__Output as _machine_EventsRequest__Output } from './machine/EventsRequest.ts';
import type { FeaturesInfo as _machine_FeaturesInfo, FeaturesInfo__Output as _machine_FeaturesInfo__Output } from './machine/FeaturesInfo.ts';
import type { Hostname as _machine_Hostname, Hostname__Output as _machine_Hostname__Output } from './machine/Hostname.ts';
import type { HostnameResponse as _machine_HostnameResponse, HostnameResponse__Output as _machine_HostnameResponse__Output } from './machine/HostnameResponse.ts';
import type { ImagePull as _machine_ImagePull, ImagePull__Output as _machine_ImagePull__Output } from './machine/ImagePull.ts';
import type { ImagePullRequest as _machine_ImagePullRequest, ImagePullRequest__Output as _machine_ImagePullRequest__Output } from './machine/ImagePullRequest.ts';
import type { ImagePullResponse as _machine_ImagePullResponse, ImagePullResponse__Output as _machine_ImagePullResponse__Output } from './machine/ImagePullResponse.ts';
import type { MachineServiceClient as _machine_MachineServiceClient, MachineServiceDefinition as _machine_MachineServiceDefinition } from './machine/MachineService.ts';
import type { MachineStatusEvent as _machine_MachineStatusEvent, MachineStatusEvent__Output as _machine_MachineStatusEvent__Output } from './machine/MachineStatusEvent.ts';
import type { PhaseEvent as _machine_PhaseEvent, PhaseEvent__Output as _machine_PhaseEvent__Output } from './machine/PhaseEvent.ts';
import type { PlatformInfo as _machine_PlatformInfo, PlatformInfo__Output as _machine_PlatformInfo__Output } from './machine/PlatformInfo.ts';
import type { ReadRequest as _machine_ReadRequest, ReadRequest__Output as _machine_ReadRequest__Output } from './machine/ReadRequest.ts';
import type { Reboot as _machine_Reboot, Reboot__Output as _machine_Reboot__Output } from './machine/Reboot.ts';
import type { RebootRequest as _machine_RebootRequest, RebootRequest__Output as _machine_RebootRequest__Output } from './machine/RebootRequest.ts';
import type { RebootResponse as _machine_RebootResponse, RebootResponse__Output as _machine_RebootResponse__Output } from './machine/RebootResponse.ts';
import type { RestartEvent as _machine_RestartEvent, RestartEvent__Output as _machine_RestartEvent__Output } from './machine/RestartEvent.ts';
import type { Rollback as _machine_Rollback, Rollback__Output as _machine_Rollback__Output } from './machine/Rollback.ts';
import type { RollbackRequest as _machine_RollbackRequest, RollbackRequest__Output as _machine_RollbackRequest__Output } from './machine/RollbackRequest.ts';
import type { RollbackResponse as _machine_RollbackResponse, RollbackResponse__Output as _machine_RollbackResponse__Output } from './machine/RollbackResponse.ts';
import type { SequenceEvent as _machine_SequenceEvent, SequenceEvent__Output as _machine_SequenceEvent__Output } from './machine/SequenceEvent.ts';
import type { ServiceEvent as _machine_ServiceEvent, ServiceEvent__Output as _machine_ServiceEvent__Output } from './machine/ServiceEvent.ts';
import type { ServiceEvents as _machine_ServiceEvents, ServiceEvents__Output as _machine_ServiceEvents__Output } from './machine/ServiceEvents.ts';
import type { ServiceHealth as _machine_ServiceHealth, ServiceHealth__Output as _machine_ServiceHealth__Output } from './machine/ServiceHealth.ts';
import type { ServiceInfo as _machine_ServiceInfo, ServiceInfo__Output as _machine_ServiceInfo__Output } from './machine/ServiceInfo.ts';
import type { ServiceList as _machine_ServiceList, ServiceList__Output as _machine_ServiceList__Output } from './machine/ServiceList.ts';
import type { ServiceListResponse as _machine_ServiceListResponse, ServiceListResponse__Output as _machine_ServiceListResponse__Output } from './machine/ServiceListResponse.ts';
import type { ServiceStateEvent as _machine_ServiceStateEvent, ServiceStateEvent__Output as _machine_ServiceStateEvent__Output } from './machine/ServiceStateEvent.ts';
import type { TaskEvent as _machine_TaskEvent, TaskEvent__Output as _machine_TaskEvent__Output } from './machine/TaskEvent.ts';
import type { Upgrade as _machine_Upgrade, Upgrade__Output as _machine_Upgrade__Output } from './machine/Upgrade.ts';
import type { UpgradeRequest as _machine_UpgradeRequest, UpgradeRequest__Output as _machine_UpgradeRequest__Output } from './machine/UpgradeRequest.ts';
import type { UpgradeResponse as _machine_UpgradeResponse, UpgradeResponse__Output as _machine_UpgradeResponse__Output } from './machine/UpgradeResponse.ts';
import type { Version as _machine_Version, Version__Output as _machine_Version__Output } from './machine/Version.ts';
import type { VersionInfo as _machine_VersionInfo, VersionInfo__Output as _machine_VersionInfo__Output } from './machine/VersionInfo.ts';
import type { VersionResponse as _machine_VersionResponse, VersionResponse__Output as _machine_VersionResponse__Output } from './machine/VersionResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  common: {
    Code: EnumTypeDefinition
    ContainerDriver: EnumTypeDefinition
    ContainerdInstance: MessageTypeDefinition<_common_ContainerdInstance, _common_ContainerdInstance__Output>
    ContainerdNamespace: EnumTypeDefinition
    Data: MessageTypeDefinition<_common_Data, _common_Data__Output>
    DataResponse: MessageTypeDefinition<_common_DataResponse, _common_DataResponse__Output>
    Empty: MessageTypeDefinition<_common_Empty, _common_Empty__Output>
    EmptyResponse: MessageTypeDefinition<_common_EmptyResponse, _common_EmptyResponse__Output>
    Error: MessageTypeDefinition<_common_Error, _common_Error__Output>
    Metadata: MessageTypeDefinition<_common_Metadata, _common_Metadata__Output>
    NetIP: MessageTypeDefinition<_common_NetIP, _common_NetIP__Output>
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      Empty: MessageTypeDefinition<_google_protobuf_Empty, _google_protobuf_Empty__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
    rpc: {
      Status: MessageTypeDefinition<_google_rpc_Status, _google_rpc_Status__Output>
    }
  }
  machine: {
    AddressEvent: MessageTypeDefinition<_machine_AddressEvent, _machine_AddressEvent__Output>
    ApplyConfiguration: MessageTypeDefinition<_machine_ApplyConfiguration, _machine_ApplyConfiguration__Output>
    ApplyConfigurationRequest: MessageTypeDefinition<_machine_ApplyConfigurationRequest, _machine_ApplyConfigurationRequest__Output>
    ApplyConfigurationResponse: MessageTypeDefinition<_machine_ApplyConfigurationResponse, _machine_ApplyConfigurationResponse__Output>
    ConfigLoadErrorEvent: MessageTypeDefinition<_machine_ConfigLoadErrorEvent, _machine_ConfigLoadErrorEvent__Output>
    ConfigValidationErrorEvent: MessageTypeDefinition<_machine_ConfigValidationErrorEvent, _machine_ConfigValidationErrorEvent__Output>
    EtcdAlarm: MessageTypeDefinition<_machine_EtcdAlarm, _machine_EtcdAlarm__Output>
    EtcdAlarmListResponse: MessageTypeDefinition<_machine_EtcdAlarmListResponse, _machine_EtcdAlarmListResponse__Output>
    EtcdForfeitLeadership: MessageTypeDefinition<_machine_EtcdForfeitLeadership, _machine_EtcdForfeitLeadership__Output>
    EtcdForfeitLeadershipRequest: MessageTypeDefinition<_machine_EtcdForfeitLeadershipRequest, _machine_EtcdForfeitLeadershipRequest__Output>
    EtcdForfeitLeadershipResponse: MessageTypeDefinition<_machine_EtcdForfeitLeadershipResponse, _machine_EtcdForfeitLeadershipResponse__Output>
    EtcdMember: MessageTypeDefinition<_machine_EtcdMember, _machine_EtcdMember__Output>
    EtcdMemberAlarm: MessageTypeDefinition<_machine_EtcdMemberAlarm, _machine_EtcdMemberAlarm__Output>
    EtcdMemberListRequest: MessageTypeDefinition<_machine_EtcdMemberListRequest, _machine_EtcdMemberListRequest__Output>
    EtcdMemberListResponse: MessageTypeDefinition<_machine_EtcdMemberListResponse, _machine_EtcdMemberListResponse__Output>
    EtcdMemberStatus: MessageTypeDefinition<_machine_EtcdMemberStatus, _machine_EtcdMemberStatus__Output>
    EtcdMembers: MessageTypeDefinition<_machine_EtcdMembers, _machine_EtcdMembers__Output>
    EtcdSnapshotRequest: MessageTypeDefinition<_machine_EtcdSnapshotRequest, _machine_EtcdSnapshotRequest__Output>
    EtcdStatus: MessageTypeDefinition<_machine_EtcdStatus, _machine_EtcdStatus__Output>
    EtcdStatusResponse: MessageTypeDefinition<_machine_EtcdStatusResponse, _machine_EtcdStatusResponse__Output>
    Event: MessageTypeDefinition<_machine_Event, _machine_Event__Output>
    EventsRequest: MessageTypeDefinition<_machine_EventsRequest, _machine_EventsRequest__Output>
    FeaturesInfo: MessageTypeDefinition<_machine_FeaturesInfo, _machine_FeaturesInfo__Output>
    Hostname: MessageTypeDefinition<_machine_Hostname, _machine_Hostname__Output>
    HostnameResponse: MessageTypeDefinition<_machine_HostnameResponse, _machine_HostnameResponse__Output>
    ImagePull: MessageTypeDefinition<_machine_ImagePull, _machine_ImagePull__Output>
    ImagePullRequest: MessageTypeDefinition<_machine_ImagePullRequest, _machine_ImagePullRequest__Output>
    ImagePullResponse: MessageTypeDefinition<_machine_ImagePullResponse, _machine_ImagePullResponse__Output>
    MachineService: SubtypeConstructor<typeof grpc.Client, _machine_MachineServiceClient> & { service: _machine_MachineServiceDefinition }
    MachineStatusEvent: MessageTypeDefinition<_machine_MachineStatusEvent, _machine_MachineStatusEvent__Output>
    PhaseEvent: MessageTypeDefinition<_machine_PhaseEvent, _machine_PhaseEvent__Output>
    PlatformInfo: MessageTypeDefinition<_machine_PlatformInfo, _machine_PlatformInfo__Output>
    ReadRequest: MessageTypeDefinition<_machine_ReadRequest, _machine_ReadRequest__Output>
    Reboot: MessageTypeDefinition<_machine_Reboot, _machine_Reboot__Output>
    RebootRequest: MessageTypeDefinition<_machine_RebootRequest, _machine_RebootRequest__Output>
    RebootResponse: MessageTypeDefinition<_machine_RebootResponse, _machine_RebootResponse__Output>
    RestartEvent: MessageTypeDefinition<_machine_RestartEvent, _machine_RestartEvent__Output>
    Rollback: MessageTypeDefinition<_machine_Rollback, _machine_Rollback__Output>
    RollbackRequest: MessageTypeDefinition<_machine_RollbackRequest, _machine_RollbackRequest__Output>
    RollbackResponse: MessageTypeDefinition<_machine_RollbackResponse, _machine_RollbackResponse__Output>
    SequenceEvent: MessageTypeDefinition<_machine_SequenceEvent, _machine_SequenceEvent__Output>
    ServiceEvent: MessageTypeDefinition<_machine_ServiceEvent, _machine_ServiceEvent__Output>
    ServiceEvents: MessageTypeDefinition<_machine_ServiceEvents, _machine_ServiceEvents__Output>
    ServiceHealth: MessageTypeDefinition<_machine_ServiceHealth, _machine_ServiceHealth__Output>
    ServiceInfo: MessageTypeDefinition<_machine_ServiceInfo, _machine_ServiceInfo__Output>
    ServiceList: MessageTypeDefinition<_machine_ServiceList, _machine_ServiceList__Output>
    ServiceListResponse: MessageTypeDefinition<_machine_ServiceListResponse, _machine_ServiceListResponse__Output>
    ServiceStateEvent: MessageTypeDefinition<_machine_ServiceStateEvent, _machine_ServiceStateEvent__Output>
    TaskEvent: MessageTypeDefinition<_machine_TaskEvent, _machine_TaskEvent__Output>
    Upgrade: MessageTypeDefinition<_machine_Upgrade, _machine_Upgrade__Output>
    UpgradeRequest: MessageTypeDefinition<_machine_UpgradeRequest, _machine_UpgradeRequest__Output>
    UpgradeResponse: MessageTypeDefinition<_machine_UpgradeResponse, _machine_UpgradeResponse__Output>
    Version: MessageTypeDefinition<_machine_Version, _machine_Version__Output>
    VersionInfo: MessageTypeDefinition<_machine_VersionInfo, _machine_VersionInfo__Output>
    VersionResponse: MessageTypeDefinition<_machine_VersionResponse, _machine_VersionResponse__Output>
  }
}

