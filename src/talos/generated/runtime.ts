import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BootIDSpec as _talos_resource_definitions_runtime_BootIDSpec, BootIDSpec__Output as _talos_resource_definitions_runtime_BootIDSpec__Output } from './talos/resource/definitions/runtime/BootIDSpec.ts';
import type { DiagnosticSpec as _talos_resource_definitions_runtime_DiagnosticSpec, DiagnosticSpec__Output as _talos_resource_definitions_runtime_DiagnosticSpec__Output } from './talos/resource/definitions/runtime/DiagnosticSpec.ts';
import type { ImageFactorySchematicSpec as _talos_resource_definitions_runtime_ImageFactorySchematicSpec, ImageFactorySchematicSpec__Output as _talos_resource_definitions_runtime_ImageFactorySchematicSpec__Output } from './talos/resource/definitions/runtime/ImageFactorySchematicSpec.ts';
import type { MachineStatusSpec as _talos_resource_definitions_runtime_MachineStatusSpec, MachineStatusSpec__Output as _talos_resource_definitions_runtime_MachineStatusSpec__Output } from './talos/resource/definitions/runtime/MachineStatusSpec.ts';
import type { MachineStatusStatus as _talos_resource_definitions_runtime_MachineStatusStatus, MachineStatusStatus__Output as _talos_resource_definitions_runtime_MachineStatusStatus__Output } from './talos/resource/definitions/runtime/MachineStatusStatus.ts';
import type { SecurityStateSpec as _talos_resource_definitions_runtime_SecurityStateSpec, SecurityStateSpec__Output as _talos_resource_definitions_runtime_SecurityStateSpec__Output } from './talos/resource/definitions/runtime/SecurityStateSpec.ts';
import type { UnmetCondition as _talos_resource_definitions_runtime_UnmetCondition, UnmetCondition__Output as _talos_resource_definitions_runtime_UnmetCondition__Output } from './talos/resource/definitions/runtime/UnmetCondition.ts';
import type { VersionSpec as _talos_resource_definitions_runtime_VersionSpec, VersionSpec__Output as _talos_resource_definitions_runtime_VersionSpec__Output } from './talos/resource/definitions/runtime/VersionSpec.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  talos: {
    resource: {
      definitions: {
        enums: {
          MachineType: EnumTypeDefinition
          RuntimeMachineStage: EnumTypeDefinition
        }
        runtime: {
          BootIDSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_BootIDSpec, _talos_resource_definitions_runtime_BootIDSpec__Output>
          DiagnosticSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_DiagnosticSpec, _talos_resource_definitions_runtime_DiagnosticSpec__Output>
          ImageFactorySchematicSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_ImageFactorySchematicSpec, _talos_resource_definitions_runtime_ImageFactorySchematicSpec__Output>
          MachineStatusSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_MachineStatusSpec, _talos_resource_definitions_runtime_MachineStatusSpec__Output>
          MachineStatusStatus: MessageTypeDefinition<_talos_resource_definitions_runtime_MachineStatusStatus, _talos_resource_definitions_runtime_MachineStatusStatus__Output>
          SecurityStateSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_SecurityStateSpec, _talos_resource_definitions_runtime_SecurityStateSpec__Output>
          UnmetCondition: MessageTypeDefinition<_talos_resource_definitions_runtime_UnmetCondition, _talos_resource_definitions_runtime_UnmetCondition__Output>
          VersionSpec: MessageTypeDefinition<_talos_resource_definitions_runtime_VersionSpec, _talos_resource_definitions_runtime_VersionSpec__Output>
        }
      }
    }
  }
}

