// Original file: proto/machine/image.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ImageServicePullRequest as _machine_ImageServicePullRequest, ImageServicePullRequest__Output as _machine_ImageServicePullRequest__Output } from '../machine/ImageServicePullRequest.ts';
import type { ImageServicePullResponse as _machine_ImageServicePullResponse, ImageServicePullResponse__Output as _machine_ImageServicePullResponse__Output } from '../machine/ImageServicePullResponse.ts';

export interface ImageServiceClient extends grpc.Client {
  Pull(argument: _machine_ImageServicePullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  Pull(argument: _machine_ImageServicePullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  pull(argument: _machine_ImageServicePullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  pull(argument: _machine_ImageServicePullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  
}

export interface ImageServiceHandlers extends grpc.UntypedServiceImplementation {
  Pull: grpc.handleServerStreamingCall<_machine_ImageServicePullRequest__Output, _machine_ImageServicePullResponse>;
  
}

export interface ImageServiceDefinition extends grpc.ServiceDefinition {
  Pull: MethodDefinition<_machine_ImageServicePullRequest, _machine_ImageServicePullResponse, _machine_ImageServicePullRequest__Output, _machine_ImageServicePullResponse__Output>
}
