import { once, setMaxListeners } from "node:events";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { PingService } from "@concord/proto/common/v1/common";
import { file_google_rpc_error_details } from "@concord/proto/google/rpc/error_details";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@concord/proto/grpc/health/v1/health";
import * as grpc from "@grpc/grpc-js";
import type { ServerSurfaceCall } from "@grpc/grpc-js/build/src/server-call";
import { ReflectionService } from "@grpc/reflection";
import { bearerToken, type Identity, type TokenAuthority } from "./auth";
import { encodedFiles, serviceDefinition } from "./codec";
import { Code, ConcordError, errors, toServiceError } from "./errors";
import type { Logger, Metrics } from "./observability";
import type { CallContext, ServiceImpl } from "./types";

/** Configuration of a {@link ConcordServer}. */
export interface ServerOptions {
  /** The process's name (`controller`, `relation`, ...), answered by Ping and used in logs. */
  name: string;
  logger: Logger;
  metrics: Metrics;
  tokens: TokenAuthority;
  /** How long in-flight calls may run after shutdown begins before they are cut (default 10 s). */
  shutdownGraceMs?: number;
}

/** Channel options of a proxy's backend: balance over every address the target resolves to. */
const BACKEND_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  "grpc.service_config_disable_resolution": 1,
};

const ANONYMOUS: Identity = { kind: "anonymous", tag: "anonymous" };

type AnyHandler = (request: unknown, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>;

/**
 * A gRPC server for protobuf-es services: typed handlers, bearer-token auth, ConcordError → status mapping,
 * request logs and metrics, grpc.health.v1 per service, server reflection, and graceful shutdown.
 */
export class ConcordServer {
  readonly #server = new grpc.Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024 });
  readonly #opts: ServerOptions;
  readonly #services: DescService[] = [];
  readonly #backends = new Map<string, grpc.Client>();
  readonly #health = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  readonly #healthWatchers = new Set<() => void>();
  readonly #shutdown = new AbortController();
  #started = false;

  constructor(options: ServerOptions) {
    this.#opts = options;
    // Every open stream listens for shutdown; there may be thousands.
    setMaxListeners(0, this.#shutdown.signal);
    this.add(PingService, { ping: async () => ({ server: options.name }) });
    this.add(
      Health,
      {
        check: async (req) => ({ status: this.#status(req) }),
        list: async () => ({
          statuses: Object.fromEntries([...this.#health].map(([k, status]) => [k, { status }])),
        }),
        watch: (req, ctx) => this.#watchHealth(req, ctx),
      },
      { public: true },
    );
  }

  /** Registers a service with its handlers; `public` services skip authentication (health only). */
  add<S extends DescService>(service: S, impl: ServiceImpl<S>, options: { public?: boolean } = {}): this {
    if (this.#started) throw new Error("services must be added before listen()");
    const handlers: Record<string, grpc.UntypedHandleCall> = {};
    for (const method of service.methods) {
      const fn = (impl as Record<string, AnyHandler>)[method.localName];
      if (!fn) throw new Error(`${service.typeName} has no handler for ${method.name}`);
      handlers[method.localName] =
        method.methodKind === "unary"
          ? this.#unary(method, fn.bind(impl), options.public ?? false)
          : this.#serverStreaming(method, fn.bind(impl), options.public ?? false);
    }
    this.#server.addService(serviceDefinition(service), handlers);
    this.#services.push(service);
    if ((service as DescService) !== Health) this.#health.set(service.typeName, ServingStatus.SERVING);
    return this;
  }

  /**
   * Forwards every call of a service to the server at `target`, untouched: request and response bytes, metadata
   * (so the backend authenticates the caller), status, details and deadline. The gateway serves one address for a
   * stack of single-service processes this way; reflection and health still describe the whole. `target` is any
   * gRPC target (`host:port`, `dns:///name:port`, `ipv4:a:p,b:p`); calls go round_robin over its addresses.
   */
  addProxy(service: DescService, target: string): this {
    if (this.#started) throw new Error("services must be added before listen()");
    const raw = (b: Buffer) => b;
    const backend = this.#backend(target);
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const handlers: Record<string, grpc.UntypedHandleCall> = {};
    for (const method of service.methods) {
      const path = `/${service.typeName}/${method.name}`;
      const streaming = method.methodKind === "server_streaming";
      definition[method.localName] = {
        path,
        requestStream: false,
        responseStream: streaming,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
        originalName: method.localName,
      };
      const labels = {
        service: service.typeName,
        method: method.name,
        type: streaming ? "proxy_stream" : "proxy_unary",
      };
      const done = (code: grpc.status) => this.#opts.metrics.handled.inc({ ...labels, code: Code[code] });
      const options = (call: ServerSurfaceCall): grpc.CallOptions => ({ deadline: call.getDeadline() });
      handlers[method.localName] = streaming
        ? (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
            const out = backend.makeServerStreamRequest(
              path,
              raw,
              raw,
              call.request,
              call.metadata,
              options(call),
            );
            call.on("cancelled", () => out.cancel());
            out.on("data", (chunk: Buffer) => {
              if (!call.write(chunk)) {
                out.pause();
                call.once("drain", () => out.resume());
              }
            });
            out.on("error", () => {}); // the status event carries it
            out.on("status", (st: grpc.StatusObject) => {
              done(st.code);
              if (call.cancelled) return;
              if (st.code === grpc.status.OK) call.end(st.metadata);
              else call.emit("error", { code: st.code, details: st.details, metadata: st.metadata });
            });
          }
        : (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
            const out = backend.makeUnaryRequest(
              path,
              raw,
              raw,
              call.request,
              call.metadata,
              options(call),
              (err, res) => {
                done(err?.code ?? grpc.status.OK);
                callback(err, res);
              },
            );
            call.on("cancelled", () => out.cancel());
          };
    }
    this.#server.addService(definition, handlers);
    this.#services.push(service);
    this.#health.set(service.typeName, ServingStatus.SERVING);
    return this;
  }

  // One channel per target, shared by the services it serves. round_robin: behind a headless Service a
  // `dns:///name:port` target resolves to every ready pod, and calls spread over all of them (pick_first would pin
  // every call to the first address). The config is ours, not a DNS TXT record's.
  #backend(target: string): grpc.Client {
    const existing = this.#backends.get(target);
    if (existing) return existing;
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), BACKEND_CHANNEL_OPTIONS);
    this.#backends.set(target, client);
    return client;
  }

  /** Binds the address (`host:port`, port 0 = any) with reflection and returns the bound port. */
  async listen(address: string): Promise<number> {
    if (!this.#started) {
      // ErrorInfo's file too, so that reflection clients (grpcurl) can print error details.
      const files = encodedFiles(this.#services, [file_google_rpc_error_details]);
      const root = Object.fromEntries(
        this.#services.map((s) => [s.typeName, { fileDescriptorProtos: files }]),
      );
      new ReflectionService(root as never).addToServer(this.#server);
      this.#started = true;
    }
    return new Promise((ok, fail) =>
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? fail(new Error(`cannot listen on ${address}: ${err.message}`)) : ok(port),
      ),
    );
  }

  /** Sets a service's health (`""` = the whole server). */
  setServing(service: string, serving: boolean): void {
    this.#health.set(service, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    for (const notify of this.#healthWatchers) notify();
  }

  /**
   * Graceful stop: every service reports NOT_SERVING, streams are told to end, in-flight calls finish; whatever
   * still runs after the grace period is cut.
   */
  async shutdown(): Promise<void> {
    for (const key of this.#health.keys()) this.#health.set(key, ServingStatus.NOT_SERVING);
    for (const notify of this.#healthWatchers) notify();
    this.#shutdown.abort(new Error("server shutting down"));
    const grace = this.#opts.shutdownGraceMs ?? 10_000;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => {
        this.#opts.logger.warn(
          { graceMs: grace },
          "calls still running after the grace period: cutting them",
        );
        this.#server.forceShutdown();
        done();
      }, grace);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        done();
      });
    });
    for (const b of this.#backends.values()) b.close();
  }

  #status(req: HealthCheckRequest): ServingStatus {
    const status = this.#health.get(req.service);
    if (status === undefined)
      throw errors.notFound("NotFound", `unknown service ${JSON.stringify(req.service)}`);
    return status;
  }

  async *#watchHealth(req: HealthCheckRequest, ctx: CallContext) {
    let wake: () => void = () => {};
    const notify = () => wake();
    this.#healthWatchers.add(notify);
    try {
      let last: ServingStatus | undefined;
      for (;;) {
        const status = this.#health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) yield create(HealthCheckResponseSchema, { status });
        last = status;
        // Watchers learn NOT_SERVING before their stream ends with the server.
        if (this.#shutdown.signal.aborted || ctx.signal.aborted) return;
        await new Promise<void>((r) => {
          wake = r;
          ctx.signal.addEventListener("abort", () => r(), { once: true });
          this.#shutdown.signal.addEventListener("abort", () => r(), { once: true });
        });
      }
    } finally {
      this.#healthWatchers.delete(notify);
    }
  }

  async #context(call: ServerSurfaceCall, method: DescMethod, isPublic: boolean, signal: AbortSignal) {
    let identity = ANONYMOUS;
    if (!isPublic) {
      const token = bearerToken(call.metadata.get("authorization")[0]);
      if (!token)
        throw errors.unauthenticated("no bearer token: send metadata 'authorization: Bearer <token>'");
      identity = await this.#opts.tokens.verify(token);
    }
    const deadline = call.getDeadline();
    const ctx: CallContext = {
      identity,
      signal,
      shutdown: this.#shutdown.signal,
      metadata: call.metadata,
      deadline:
        deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      logger: this.#opts.logger.child({ method: method.name, caller: identity.tag }),
      path: `/${method.parent.typeName}/${method.name}`,
    };
    return ctx;
  }

  #signalFor(call: ServerSurfaceCall): AbortController {
    const ac = new AbortController();
    call.on("cancelled", () => ac.abort(new ConcordError(Code.CANCELLED, "Cancelled", "call cancelled")));
    return ac;
  }

  #finish(method: DescMethod, type: string, started: bigint, err: ConcordError | undefined, caller: string) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const labels = { service: method.parent.typeName, method: method.name, type };
    const code = err ? Code[err.code] : "OK";
    this.#opts.metrics.handled.inc({ ...labels, code });
    this.#opts.metrics.latency.observe(labels, seconds);
    const entry = { rpc: `${labels.service}/${labels.method}`, code, ms: seconds * 1000, caller };
    if (!err) this.#opts.logger.info(entry, "rpc");
    else if (err.code === Code.INTERNAL || err.code === Code.UNKNOWN)
      this.#opts.logger.error({ ...entry, kind: err.kind, err: err.cause ?? err }, "rpc failed: bug");
    else this.#opts.logger.info({ ...entry, kind: err.kind, error: err.message }, "rpc failed");
  }

  #unary(method: DescMethod, fn: AnyHandler, isPublic: boolean): grpc.handleUnaryCall<unknown, unknown> {
    return async (call, callback) => {
      const started = process.hrtime.bigint();
      this.#opts.metrics.started.inc({ service: method.parent.typeName, method: method.name, type: "unary" });
      const ac = this.#signalFor(call);
      let caller = "anonymous";
      try {
        const ctx = await this.#context(call, method, isPublic, ac.signal);
        caller = ctx.identity.tag;
        const response = await (fn(call.request, ctx) as Promise<MessageInitShape<DescMessage>>);
        this.#finish(method, "unary", started, undefined, caller);
        callback(null, response);
      } catch (e) {
        const err = ConcordError.from(e);
        this.#finish(method, "unary", started, err, caller);
        callback(toServiceError(err));
      }
    };
  }

  #serverStreaming(
    method: DescMethod,
    fn: AnyHandler,
    isPublic: boolean,
  ): grpc.handleServerStreamingCall<unknown, unknown> {
    return async (call) => {
      const started = process.hrtime.bigint();
      const type = "server_stream";
      this.#opts.metrics.started.inc({ service: method.parent.typeName, method: method.name, type });
      const ac = this.#signalFor(call);
      const onShutdown = () =>
        ac.abort(errors.unavailable("ShuttingDown", "server shutting down; reconnect"));
      // Public streams (health watches) end themselves on shutdown, after telling the client.
      if (!isPublic) this.#shutdown.signal.addEventListener("abort", onShutdown, { once: true });
      let caller = "anonymous";
      try {
        const ctx = await this.#context(call, method, isPublic, ac.signal);
        caller = ctx.identity.tag;
        for await (const msg of fn(call.request, ctx) as AsyncIterable<unknown>) {
          if (ac.signal.aborted) break;
          if (!call.write(msg)) await Promise.race([once(call, "drain"), once(ac.signal, "abort")]);
        }
        if (call.cancelled) {
          this.#finish(
            method,
            type,
            started,
            new ConcordError(Code.CANCELLED, "Cancelled", "cancelled"),
            caller,
          );
          return;
        }
        if (this.#shutdown.signal.aborted && isPublic === false) {
          const err = errors.unavailable("ShuttingDown", "server shutting down; reconnect and resume");
          this.#finish(method, type, started, err, caller);
          call.emit("error", toServiceError(err));
          return;
        }
        this.#finish(method, type, started, undefined, caller);
        call.end();
      } catch (e) {
        const err = ConcordError.from(e);
        this.#finish(method, type, started, err, caller);
        if (!call.cancelled) call.emit("error", toServiceError(err));
      } finally {
        this.#shutdown.signal.removeEventListener("abort", onShutdown);
      }
    };
  }
}
