// Original file: proto/resource/config/config.proto


export interface MachineConfigSpec {
  'yamlMarshalled'?: (Buffer | Uint8Array | string);
}

export interface MachineConfigSpec__Output {
  'yamlMarshalled': (Buffer);
}
