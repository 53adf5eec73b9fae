import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import type { Identity } from "./auth";
import type { Logger } from "./observability";

/** What a handler knows about the call besides its request. */
export interface CallContext {
  /** The verified caller (`anonymous` only on public services such as health). */
  identity: Identity;
  /** Aborted when the client cancels, the deadline passes, or the server shuts down. */
  signal: AbortSignal;
  /** Aborted only when the server shuts down: streams should end promptly. */
  shutdown: AbortSignal;
  metadata: Metadata;
  /** The call's deadline, if the client set one. */
  deadline?: Date;
  /** A child logger naming the method and the caller. */
  logger: Logger;
  /** `/package.Service/Method`. */
  path: string;
}

type Unary<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: CallContext,
) => Promise<MessageInitShape<O>>;
type ServerStreaming<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

/** Typed handlers for every method of a generated service (unary and server-streaming methods). */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    methodKind: "unary";
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  }
    ? Unary<I, O>
    : S["method"][K] extends {
          methodKind: "server_streaming";
          input: infer I extends DescMessage;
          output: infer O extends DescMessage;
        }
      ? ServerStreaming<I, O>
      : never;
};

/** Per-call options of the client kit. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Absolute deadline, or a timeout in milliseconds from now. */
  deadline?: Date | number;
  /** Overrides the client's token for this call. */
  token?: string;
}

/** A typed client for a generated service. */
export type Client<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    methodKind: "unary";
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  }
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends {
          methodKind: "server_streaming";
          input: infer I extends DescMessage;
          output: infer O extends DescMessage;
        }
      ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : never;
} & { close(): void };
