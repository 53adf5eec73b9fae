import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { serviceDefinition } from "./codec";
import { ConcordError, fromServiceError } from "./errors";
import type { CallOptions, Client } from "./types";

/** Configuration of {@link createClient}. */
export interface ClientOptions {
  /** Bearer token sent with every call (a call may override it). */
  token?: string;
  /** grpc-js channel options, e.g. keepalive settings. */
  channelOptions?: grpc.ChannelOptions;
}

type RawUnary = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: grpc.requestCallback<unknown>,
) => grpc.ClientUnaryCall;
type RawStream = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

function toError(err: unknown): ConcordError {
  const e = err as grpc.ServiceError;
  return typeof e?.code === "number" ? fromServiceError(e) : ConcordError.from(err);
}

/**
 * A typed client of a generated service: unary methods return promises, server-streaming methods async iterables
 * (breaking out of the loop or aborting the signal cancels the call). Failures are ConcordErrors with the peer's kind.
 */
export function createClient<S extends DescService>(
  service: S,
  address: string,
  options: ClientOptions = {},
): Client<S> {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service), service.typeName);
  const raw = new Ctor(
    address,
    grpc.credentials.createInsecure(),
    options.channelOptions,
  ) as unknown as Record<string, RawUnary & RawStream> & grpc.Client;
  const metadata = (opts?: CallOptions) => {
    const md = new grpc.Metadata();
    const token = opts?.token ?? options.token;
    if (token) md.set("authorization", `Bearer ${token}`);
    return md;
  };
  const callOptions = (opts?: CallOptions): grpc.CallOptions => {
    if (opts?.deadline === undefined) return {};
    return { deadline: typeof opts.deadline === "number" ? Date.now() + opts.deadline : opts.deadline };
  };
  const client: Record<string, unknown> = { close: () => raw.close() };
  for (const method of service.methods) {
    const fn = raw[method.localName]!.bind(raw);
    if (method.methodKind === "unary") {
      client[method.localName] = (req: unknown, opts?: CallOptions) =>
        new Promise((ok, fail) => {
          if (opts?.signal?.aborted) return fail(toError(opts.signal.reason));
          const call = fn(req, metadata(opts), callOptions(opts), (err, res) =>
            err ? fail(toError(err)) : ok(res),
          );
          opts?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        });
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (req: unknown, opts?: CallOptions) => ({
        async *[Symbol.asyncIterator]() {
          const call = fn(req, metadata(opts), callOptions(opts));
          const cancel = () => call.cancel();
          opts?.signal?.addEventListener("abort", cancel, { once: true });
          try {
            for await (const msg of call) yield msg;
          } catch (err) {
            throw toError(err);
          } finally {
            opts?.signal?.removeEventListener("abort", cancel);
            call.cancel();
          }
        },
      });
    }
  }
  return client as Client<S>;
}
