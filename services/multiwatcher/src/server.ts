import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Code,
  Code as Codes,
  ConcordError,
  errors,
  type Identity,
  type ServiceImpl,
} from "@concord/grpc";
import {
  MultiwatcherService,
  type WatchFrom,
  type WatchResultSchema,
} from "@concord/proto/multiwatcher/v1/multiwatcher";
import {
  controllerScope,
  entityKey,
  isStopped,
  MultiwatcherError,
  modelScope,
  type Scope,
  type StatusCode,
  type Watcher,
  type WatchResult,
} from "./domain";
import type { Feed } from "./feed";

const codes: Record<StatusCode, Code> = {
  CANCELLED: Codes.CANCELLED,
  UNAVAILABLE: Codes.UNAVAILABLE,
  ABORTED: Codes.ABORTED,
  OUT_OF_RANGE: Codes.OUT_OF_RANGE,
  INVALID_ARGUMENT: Codes.INVALID_ARGUMENT,
  FAILED_PRECONDITION: Codes.FAILED_PRECONDITION,
};

/** A domain error as the platform's error: same kind, its gRPC code, the oldest resumable revision as a detail. */
export function toConcordError(err: unknown): ConcordError {
  if (!(err instanceof MultiwatcherError)) return ConcordError.from(err);
  const details: Record<string, string> =
    err.oldestRevision === undefined ? {} : { oldestRevision: String(err.oldestRevision) };
  return new ConcordError(codes[err.code], err.kind, err.message, details, { cause: err });
}

/** One result as its proto message. */
export function toMessage(result: WatchResult, logId: string): MessageInitShape<typeof WatchResultSchema> {
  return {
    revision: BigInt(result.revision),
    snapshot: result.snapshot,
    bookmark: result.bookmark,
    logId,
    deltas: result.deltas.map((d) => ({
      kind: entityKey(d.entity)?.kind ?? "",
      removed: d.removed,
      revision: BigInt(d.revision),
      entity: d.entity,
    })),
  };
}

/**
 * Who may watch what (README "Authorisation"): admin watches the controller and any model; a unit or application
 * agent watches a model only while its own application is live in that model's store, and never the controller.
 */
export function authorizeWatch(feed: Feed, identity: Identity, scope: Scope): void {
  if (identity.kind === "admin") return;
  if (scope.type === "controller") {
    throw errors.permissionDenied(`${identity.tag} may not watch the controller: only admin may`);
  }
  if (identity.kind === "unit" || identity.kind === "application") {
    const key = { kind: "application" as const, modelUUID: scope.modelUUID, id: identity.application };
    if (feed.multiwatcher.isLive(key)) return;
  }
  throw errors.permissionDenied(`${identity.tag} may not watch model ${scope.modelUUID}`);
}

function untilReady(feed: Feed, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    feed.ready.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

function sinceOf(from: WatchFrom | undefined): number | undefined {
  if (from?.sinceRevision === undefined) return undefined;
  if (from.sinceRevision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw errors.invalidArgument("NotValid", `revision ${from.sinceRevision} not valid`);
  }
  return Number(from.sinceRevision);
}

/** A revision of another log (the log was deleted and re-created) is out of range whatever its value (§11.1). */
function checkLog(from: WatchFrom | undefined, feed: Feed): void {
  const logId = feed.logId();
  if (from?.sinceRevision === undefined || from.logId === "" || from.logId === logId) return;
  throw new ConcordError(
    Codes.OUT_OF_RANGE,
    "RevisionOutOfRange",
    `revision ${from.sinceRevision} belongs to event log ${from.logId}, not to the current log ${logId}; re-open the watch without a revision`,
    { oldestRevision: String(feed.multiwatcher.report()["oldest-revision"]) },
  );
}

/**
 * Serves one watch as a stream (spec §5.6): each message is one `next()`, asked for only once the server kit has
 * written the previous one and the transport took it. Cancelling the call (or the server shutting down) stops the
 * watcher; errors end the stream with their code.
 */
async function* serve(
  feed: Feed,
  ctx: { identity: Identity; signal: AbortSignal },
  from: WatchFrom | undefined,
  scopeOf: () => Scope,
): AsyncGenerator<MessageInitShape<typeof WatchResultSchema>> {
  let target: { scope: Scope; since: number | undefined };
  try {
    target = { scope: scopeOf(), since: sinceOf(from) };
  } catch (err) {
    throw toConcordError(err);
  }
  // Permission depends on the store (an agent's application must exist), so wait for the rebuild first.
  await untilReady(feed, ctx.signal);
  authorizeWatch(feed, ctx.identity, target.scope);
  checkLog(from, feed);
  let watcher: Watcher;
  try {
    watcher = feed.multiwatcher.watch(target.scope, { sinceRevision: target.since });
  } catch (err) {
    throw toConcordError(err);
  }
  const stop = () => watcher.stop();
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      let result: WatchResult;
      try {
        result = await watcher.next();
      } catch (err) {
        // A stop caused by the call ending is the end of the stream; the kit reports cancellation or shutdown.
        if (ctx.signal.aborted && isStopped(err)) return;
        throw toConcordError(err);
      }
      yield toMessage(result, feed.logId());
    }
  } finally {
    ctx.signal.removeEventListener("abort", stop);
    watcher.stop();
  }
}

/** The handlers of `concord.multiwatcher.v1.MultiwatcherService`. */
export function multiwatcherHandlers(feed: Feed): ServiceImpl<typeof MultiwatcherService> {
  return {
    async *watchModel(req, ctx) {
      const results = serve(feed, ctx, req.from, () => modelScope(req.modelUuid));
      for await (const result of results) yield { result };
    },
    async *watchController(req, ctx) {
      const results = serve(feed, ctx, req.from, () => controllerScope);
      for await (const result of results) yield { result };
    },
    async report(_req, ctx) {
      if (ctx.identity.kind !== "admin") {
        throw errors.permissionDenied(
          `${ctx.identity.tag} may not read the multiwatcher report: only admin may`,
        );
      }
      const r = feed.multiwatcher.report();
      return {
        numWatchers: BigInt(r["num-watchers"]),
        storeSize: BigInt(r["store-size"]),
        restartCount: BigInt(r["restart-count"]),
        resumeCount: BigInt(r["resume-count"]),
        queueSize: BigInt(r["queue-size"]),
        queueAge: r["queue-age"],
        errors: r.errors ?? [],
        revision: BigInt(r.revision),
        oldestRevision: BigInt(r["oldest-revision"]),
        logId: feed.logId(),
      };
    },
  };
}

export { MultiwatcherService };
