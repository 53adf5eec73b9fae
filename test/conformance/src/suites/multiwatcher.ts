// Runs multiwatcher case files (../../cases/multiwatcher.json format). By default in process against the
// multiwatcher domain: an in-memory event log, one Multiwatcher per replica fed synchronously, and a manual clock.
// With CONCORD_MW_CONFORMANCE=grpc, every stream-safe case (the file's `grpc_runs` convention) runs against the
// real service instead: events appended to a real (embedded) event log, one feed and gRPC server per replica, and
// results read from real WatchModel / WatchController streams. Cases that need a store rebuilt from a snapshot
// source after a non-resumable failure, or that are not stream-safe, still run on the domain, marked "[domain]".
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, equals, fromJson, type JsonObject, toBinary, toJson } from "@bufbuild/protobuf";
import {
  type EventLog,
  EventLogError,
  type LogMessage,
  openEmbeddedLog,
  type SubscribeOptions,
  type Subscription,
  subjectFor,
} from "@concord/events";
import {
  type Client,
  Code,
  ConcordError,
  ConcordServer,
  createClient,
  createLogger,
  Metrics,
  TokenAuthority,
} from "@concord/grpc";
import {
  type Delta,
  type Feed,
  ManualClock,
  Multiwatcher,
  MultiwatcherError,
  MultiwatcherService,
  multiwatcherHandlers,
  parseScope,
  type Report,
  startFeed,
  type Watcher,
  type WatchResult,
} from "@concord/multiwatcher";
import {
  type ChangeEvent,
  ChangeEventSchema,
  type Entity,
  EntitySchema,
} from "@concord/proto/events/v1/events";
import type { Suite } from "../types";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type CaseEntity = { kind: string; modelUUID: string; id: string } & Record<string, Json>;
type Step = Record<string, Json> & { op: string };
interface Case {
  id: string;
  name: string;
  steps: Step[];
  alternatives?: { step: number; expect: Json }[];
}

/** The field that carries an entity's id in its proto message; a model's id is its UUID. */
const idFields: Record<string, string | undefined> = {
  model: undefined,
  application: "name",
  unit: "name",
  relation: "key",
  leader: "application",
  meterStatus: "unit",
};

const retentionMs = 300_000;
const bookmarkMs = 30_000;
/** Flushes promise callbacks so that an answered `next()` is seen as settled. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function caseEntityToProto(e: CaseEntity): Entity {
  const { kind, modelUUID, id, ...fields } = e;
  if (!(kind in idFields)) throw new Error(`unknown entity kind ${kind}`);
  const info: JsonObject = { ...fields, modelUuid: modelUUID };
  const idField = idFields[kind];
  if (idField) info[idField] = id;
  if (typeof info.life === "string") info.life = `LIFE_${info.life.toUpperCase()}`;
  return fromJson(EntitySchema, { [kind]: info });
}

function protoToCaseJson(entity: Entity): Json {
  const json = toJson(EntitySchema, entity) as Record<string, Record<string, Json>>;
  const [kind, info] = Object.entries(json)[0] ?? ["?", {}];
  const { modelUuid, ...rest } = info;
  const idField = idFields[kind];
  const id = idField ? rest[idField] : modelUuid;
  if (idField) delete rest[idField];
  if (typeof rest.life === "string") rest.life = rest.life.replace(/^LIFE_/, "").toLowerCase();
  return { kind, modelUUID: modelUuid ?? "", id: id ?? "", ...rest };
}

/** An error read from a gRPC watch stream: its status name, message and the oldest resumable revision. */
class StreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly oldestRevision?: number,
  ) {
    super(message);
  }
}

interface Outstanding {
  settled: boolean;
  result?: WatchResult;
  error?: unknown;
}

function track(p: Promise<WatchResult>): Outstanding {
  const o: Outstanding = { settled: false };
  p.then(
    (result) => {
      o.settled = true;
      o.result = result;
    },
    (error: unknown) => {
      o.settled = true;
      o.error = error;
    },
  );
  return o;
}

interface Replica {
  mw: Multiwatcher;
  killed: boolean;
}

interface WatcherSlot {
  replica: string;
  watcher?: Watcher;
  openError?: unknown;
  outstanding?: Outstanding;
}

class CaseRun {
  readonly clock = new ManualClock();
  readonly uuids = new Map<string, string>();
  readonly labels = new Map<string, number>([["start", 0]]);
  readonly replicas = new Map<string, Replica>();
  readonly watchers = new Map<string, WatcherSlot>();
  /** The event log: every event ever published, and O (events up to it are dropped). */
  readonly log: { seq: number; event: ChangeEvent }[] = [];
  oldest = 0;
  /** The current state, as a snapshot source would give it: last value and last-change revision per entity. */
  readonly state = new Map<string, { entity: Entity; revision: number }>();

  get last(): number {
    return this.log.length;
  }

  uuid(symbolic: string): string {
    if (!/^uuid\d+$/.test(symbolic)) return symbolic;
    let real = this.uuids.get(symbolic);
    if (!real) {
      real = randomUUID();
      this.uuids.set(symbolic, real);
    }
    return real;
  }

  mapEntity(e: CaseEntity): CaseEntity {
    const modelUUID = this.uuid(e.modelUUID);
    return { ...e, modelUUID, id: e.kind === "model" ? this.uuid(e.id) : e.id };
  }

  revision(label: Json | undefined): number {
    if (typeof label === "number") return label;
    if (typeof label === "string" && this.labels.has(label)) return this.labels.get(label)!;
    throw new Error(`unknown revision label ${JSON.stringify(label)}`);
  }

  replica(name: Json | undefined): Replica {
    const key = typeof name === "string" ? name : "a";
    let r = this.replicas.get(key);
    if (!r) {
      const mw = new Multiwatcher({
        clock: this.clock,
        removedRetentionMs: retentionMs,
        bookmarkIntervalMs: bookmarkMs,
      });
      mw.setLogBounds({ oldestRevision: this.oldest, lastSequence: this.last });
      mw.load(this.snapshot());
      r = { mw, killed: false };
      this.replicas.set(key, r);
    }
    return r;
  }

  snapshot() {
    return {
      revision: this.last,
      entities: [...this.state.values()].map(({ entity, revision }) => ({ entity, revision })),
    };
  }

  /** The events of one publishing step (one commit), in the multiwatcher's input format. */
  buildEvents(changes: Step[]): ChangeEvent[] {
    const commitId = changes.length > 1 ? `commit-${this.last + 1}` : "";
    return changes.map((c, i) => {
      let key: { kind: string; modelUUID: string; id: string };
      let change: ChangeEvent["change"];
      if (c.op === "update") {
        const e = this.mapEntity(c.entity as CaseEntity);
        key = e;
        change = { case: "entity", value: caseEntityToProto(e) };
      } else if (c.op === "remove") {
        key = {
          kind: String(c.kind),
          modelUUID: this.uuid(String(c.modelUUID)),
          id: c.kind === "model" ? this.uuid(String(c.id)) : String(c.id),
        };
        change = { case: "removed", value: true };
      } else {
        throw new Error(`a batch cannot hold ${c.op}`);
      }
      return create(ChangeEventSchema, {
        modelUuid: key.modelUUID,
        kind: key.kind,
        id: key.id,
        change,
        commitId,
        commitIndex: i,
        commitSize: changes.length,
        source: "conformance",
      });
    });
  }

  async publish(changes: Step[], label: Json | undefined): Promise<void> {
    const events = this.buildEvents(changes);
    const first = this.last + 1;
    for (const [i, event] of events.entries()) this.log.push({ seq: first + i, event });
    const seq = this.last;
    for (const event of events) {
      const ks = `${event.kind}/${event.modelUuid}/${event.id}`;
      if (event.change.case === "removed") this.state.delete(ks);
      else if (event.change.case === "entity") {
        const now = this.state.get(ks);
        if (!now || !equals(EntitySchema, now.entity, event.change.value)) {
          this.state.set(ks, { entity: event.change.value, revision: seq });
        }
      }
    }
    if (typeof label === "string") this.labels.set(label, seq);
    for (const [i, event] of events.entries()) {
      for (const r of this.replicas.values()) if (!r.killed) r.mw.applyEvent(first + i, event);
    }
    await settle();
  }

  async step(step: Step, expects: Json[]): Promise<string | undefined> {
    switch (step.op) {
      case "update":
      case "remove":
        await this.publish([step], step.rev);
        return undefined;
      case "batch":
        await this.publish(step.changes as Step[], step.rev);
        return undefined;
      case "watch": {
        const replica = typeof step.replica === "string" ? step.replica : "a";
        const slot: WatcherSlot = { replica };
        const r = this.replica(replica);
        try {
          const scope = String(step.scope).replace(
            /^model:(uuid\d+)$/,
            (_, u: string) => `model:${this.uuid(u)}`,
          );
          const since = step.since === undefined ? undefined : this.revision(step.since);
          slot.watcher = r.mw.watch(parseScope(scope), { sinceRevision: since });
        } catch (err) {
          slot.openError = err;
        }
        this.watchers.set(String(step.watcher), slot);
        return undefined;
      }
      case "next":
        return this.next(step, expects);
      case "stop": {
        const slot = this.slot(step.watcher);
        slot.watcher?.stop();
        await settle();
        return undefined;
      }
      case "restart": {
        const r = this.replica(step.replica);
        const error = new Error(String(step.error));
        if (step.resumable === true) {
          r.mw.backingFailed(error, { resumable: true });
          for (const { seq, event } of this.log) if (seq >= r.mw.nextSequence) r.mw.applyEvent(seq, event);
        } else {
          this.oldest = this.last;
          for (const other of this.replicas.values()) {
            other.mw.setLogBounds({ oldestRevision: this.oldest, lastSequence: this.last });
          }
          r.mw.backingFailed(error, { resumable: false });
          r.mw.setLogBounds({ oldestRevision: this.oldest, lastSequence: this.last });
          r.mw.load(this.snapshot());
        }
        await settle();
        return undefined;
      }
      case "kill": {
        const r = this.replica(step.replica);
        r.mw.shutdown();
        r.killed = true;
        await settle();
        return undefined;
      }
      case "compact":
        this.oldest = this.revision(step.through);
        for (const r of this.replicas.values()) {
          r.mw.setLogBounds({ oldestRevision: this.oldest, lastSequence: this.last });
        }
        return undefined;
      case "advanceClock":
        this.clock.advance(Number(step.seconds) * 1000);
        await settle();
        return undefined;
      case "report":
        return firstPass(expects, (e) => this.compareReport(this.replica(step.replica).mw.report(), e));
      default:
        throw new Error(`unknown op ${step.op}`);
    }
  }

  slot(name: Json | undefined): WatcherSlot {
    const slot = this.watchers.get(String(name));
    if (!slot) throw new Error(`unknown watcher ${JSON.stringify(name)}`);
    return slot;
  }

  async next(step: Step, expects: Json[]): Promise<string | undefined> {
    const slot = this.slot(step.watcher);
    const wantsBookmark = expects.some((e) => isObject(e) && e.bookmark === true);
    let outcome: Outstanding;
    if (!slot.watcher) {
      // An error found when opening is reported by the first next; afterwards the watcher is simply stopped.
      const error = slot.openError ?? new MultiwatcherError("WatcherStopped", "watcher was stopped");
      slot.openError = new MultiwatcherError("WatcherStopped", "watcher was stopped");
      outcome = { settled: true, error };
    } else {
      for (;;) {
        slot.outstanding ??= track(slot.watcher.next());
        await settle();
        outcome = slot.outstanding;
        if (!outcome.settled) break;
        slot.outstanding = undefined;
        if (!outcome.result?.bookmark || wantsBookmark) break;
      }
    }
    const orderInsensitive = step.orderInsensitive === true;
    return firstPass(expects, (e) => this.compareOutcome(outcome, e, orderInsensitive));
  }

  compareOutcome(o: Outstanding, expect: Json, orderInsensitive: boolean): string | undefined {
    if (expect === "blocks") return o.settled ? `expected to block, got ${describe(this, o)}` : undefined;
    if (!o.settled) return "blocked";
    if (Array.isArray(expect)) {
      if (!o.result) return `expected deltas, got ${describe(this, o)}`;
      return this.compareDeltas(o.result.deltas, expect, orderInsensitive);
    }
    if (!isObject(expect)) throw new Error(`bad expectation ${JSON.stringify(expect)}`);
    if ("deltas" in expect) {
      const r = o.result;
      if (!r) return `expected a result, got ${describe(this, o)}`;
      if (expect.snapshot !== undefined && r.snapshot !== expect.snapshot) return `snapshot ${r.snapshot}`;
      if (expect.bookmark !== undefined && r.bookmark !== expect.bookmark) return `bookmark ${r.bookmark}`;
      if (expect.revision !== undefined && r.revision !== this.revision(expect.revision)) {
        return `revision ${r.revision}, want ${this.revision(expect.revision)}`;
      }
      return this.compareDeltas(r.deltas, expect.deltas as Json[], orderInsensitive);
    }
    const err = o.error;
    if (!o.error) return `expected an error, got ${describe(this, o)}`;
    if (!(err instanceof MultiwatcherError || err instanceof StreamError))
      return `unexpected error ${String(err)}`;
    if (typeof expect.error === "string" && !err.message.includes(expect.error)) {
      return `error ${JSON.stringify(err.message)} does not contain ${JSON.stringify(expect.error)}`;
    }
    if (expect.code !== undefined && err.code !== expect.code) return `code ${err.code}, want ${expect.code}`;
    if (expect.oldestRevision !== undefined && err.oldestRevision !== this.revision(expect.oldestRevision)) {
      return `oldestRevision ${err.oldestRevision}, want ${this.revision(expect.oldestRevision)}`;
    }
    return undefined;
  }

  compareDeltas(actual: Delta[], expected: Json[], orderInsensitive: boolean): string | undefined {
    const mismatch = () =>
      `deltas ${JSON.stringify(actual.map((d) => this.deltaJson(d)))}, want ${JSON.stringify(expected)}`;
    if (actual.length !== expected.length) return mismatch();
    const used = new Set<number>();
    for (const [i, want] of expected.entries()) {
      const candidates = orderInsensitive ? actual.map((_, j) => j).filter((j) => !used.has(j)) : [i];
      const j = candidates.find((k) => this.deltaMatches(actual[k]!, want));
      if (j === undefined) return mismatch();
      used.add(j);
    }
    return undefined;
  }

  deltaMatches(d: Delta, want: Json): boolean {
    if (!isObject(want)) return false;
    if (d.removed !== want.removed) return false;
    if (want.revision !== undefined && d.revision !== this.revision(want.revision)) return false;
    return equals(EntitySchema, d.entity, caseEntityToProto(this.mapEntity(want.entity as CaseEntity)));
  }

  deltaJson(d: Delta): Json {
    return { removed: d.removed, entity: this.unmap(protoToCaseJson(d.entity)), revision: d.revision };
  }

  unmap(json: Json): Json {
    let text = JSON.stringify(json);
    for (const [symbolic, real] of this.uuids) text = text.replaceAll(real, symbolic);
    return JSON.parse(text) as Json;
  }

  compareReport(report: Report, expect: Json): string | undefined {
    if (!isObject(expect)) throw new Error("report expectation must be an object");
    for (const [key, want] of Object.entries(expect)) {
      const got = (report as unknown as Record<string, Json | undefined>)[key];
      if (key === "errors") {
        if (JSON.stringify(got ?? []) !== JSON.stringify(want)) return `errors ${JSON.stringify(got ?? [])}`;
        continue;
      }
      const wanted = key === "revision" || key === "oldest-revision" ? this.revision(want) : want;
      if (got !== wanted) return `report ${key} = ${JSON.stringify(got)}, want ${JSON.stringify(wanted)}`;
    }
    return undefined;
  }
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(run: CaseRun, o: Outstanding): string {
  if (!o.settled) return "no result (blocked)";
  if (o.error) return `error ${o.error instanceof Error ? o.error.message : String(o.error)}`;
  const r = o.result!;
  return JSON.stringify({
    revision: r.revision,
    snapshot: r.snapshot,
    bookmark: r.bookmark,
    deltas: r.deltas.map((d) => run.deltaJson(d)),
  });
}

/** Passes when any acceptable expectation matches; otherwise reports the primary's mismatch. */
function firstPass(expects: Json[], compare: (e: Json) => string | undefined): string | undefined {
  const failures = expects.map(compare);
  return failures.some((f) => f === undefined) ? undefined : failures[0];
}

async function runCase(c: Case): Promise<string | undefined> {
  const run = new CaseRun();
  run.replica("a");
  try {
    for (const [i, step] of c.steps.entries()) {
      const alternatives = (c.alternatives ?? []).filter((a) => a.step === i).map((a) => a.expect);
      const failure = await run.step(step, [step.expect as Json, ...alternatives]);
      if (failure !== undefined)
        return `step ${i} (${step.op}${step.watcher ? ` ${step.watcher}` : ""}): ${failure}`;
    }
    return undefined;
  } finally {
    for (const r of run.replicas.values()) r.mw.shutdown();
  }
}

/** The shared event log of a gRPC case, with history that can be dropped (`compact`) for every replica. */
class CaseLog {
  first = 0;
  constructor(readonly inner: EventLog) {}
}

/**
 * One replica's view of the case's log: `info()` reflects compaction, and `interrupt()` cuts its subscription
 * as a lost NATS connection does (the feed must resume it at its next sequence).
 */
class ReplicaLog implements EventLog {
  #cut: ((err: Error) => void) | undefined;
  constructor(readonly shared: CaseLog) {}
  interrupt(message: string): void {
    this.#cut?.(new Error(message));
  }
  append: EventLog["append"] = (...args) => this.shared.inner.append(...args);
  read: EventLog["read"] = (...args) => this.shared.inner.read(...args);
  lastPerSubject: EventLog["lastPerSubject"] = (...args) => this.shared.inner.lastPerSubject(...args);
  async close(): Promise<void> {}
  async info() {
    const info = await this.shared.inner.info();
    return { ...info, firstSeq: Math.max(info.firstSeq, this.shared.first) };
  }
  subscribe(fromSeq: number, opts?: SubscribeOptions): Subscription {
    if (fromSeq < this.shared.first) {
      throw new EventLogError("OutOfRange", `messages from ${fromSeq} are no longer in the log`);
    }
    const inner = this.shared.inner.subscribe(fromSeq, opts);
    const view = this;
    return {
      stop: () => inner.stop(),
      async *[Symbol.asyncIterator](): AsyncIterator<LogMessage> {
        const it = inner[Symbol.asyncIterator]();
        const cut = new Promise<Error>((resolve) => {
          view.#cut = resolve;
        });
        try {
          for (;;) {
            const r = await Promise.race([it.next(), cut]);
            if (r instanceof Error) throw r;
            if (r.done) return;
            yield r.value;
          }
        } finally {
          await inner.stop();
        }
      },
    };
  }
}

interface GrpcReplica {
  log: ReplicaLog;
  feed: Feed;
  server: ConcordServer;
  client: Client<typeof MultiwatcherService>;
  killed: boolean;
}

interface StreamSlot {
  replica: string;
  ac: AbortController;
  /** Outcomes read from the stream and not yet taken by a next step. */
  queue: Outstanding[];
  ended: boolean;
  stopped: boolean;
  wake: () => void;
}

const secret = "conformance-secret-0123456789";
const tokens = new TokenAuthority(secret);
const quiet = createLogger("conformance", "silent");
/** Long enough for any answer over loopback; a "blocks" expectation waits 100 ms (the file's convention). */
const answerMs = 5000;
const blockMs = 100;

function statusName(code: number): string {
  return (Code as unknown as Record<number, string>)[code] ?? String(code);
}

function fromStream(err: unknown): StreamError {
  const e = ConcordError.from(err);
  const oldest = e.details.oldestRevision;
  return new StreamError(statusName(e.code), e.message, oldest === undefined ? undefined : Number(oldest));
}

const stoppedOutcome = (): Outstanding => ({
  settled: true,
  error: new StreamError("CANCELLED", "watcher was stopped"),
});

/** A case run against the real service: real event log, feeds, gRPC servers and streams. */
class GrpcCaseRun extends CaseRun {
  readonly dir = mkdtempSync(join(tmpdir(), "concord-mw-conformance-"));
  caseLog!: CaseLog;
  readonly grpcReplicas = new Map<string, GrpcReplica>();
  readonly streams = new Map<string, StreamSlot>();
  adminToken = "";

  async open(): Promise<void> {
    this.caseLog = new CaseLog(await openEmbeddedLog({ dir: this.dir }));
    this.adminToken = await tokens.issue("admin");
    await this.grpcReplica("a");
  }

  async close(): Promise<void> {
    for (const slot of this.streams.values()) slot.ac.abort();
    for (const r of this.grpcReplicas.values()) {
      r.client.close();
      await r.feed.stop();
      await r.server.shutdown();
    }
    await this.caseLog?.inner.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async grpcReplica(name: Json | undefined): Promise<GrpcReplica> {
    const key = typeof name === "string" ? name : "a";
    let r = this.grpcReplicas.get(key);
    if (!r) {
      const log = new ReplicaLog(this.caseLog);
      const feed = startFeed({
        log,
        clock: this.clock,
        removedRetentionMs: retentionMs,
        bookmarkIntervalMs: bookmarkMs,
      });
      const server = new ConcordServer({
        name: `mw-${key}`,
        logger: quiet,
        metrics: new Metrics(),
        tokens,
        shutdownGraceMs: 500,
      });
      server.add(MultiwatcherService, multiwatcherHandlers(feed));
      const port = await server.listen("127.0.0.1:0");
      const client = createClient(MultiwatcherService, `127.0.0.1:${port}`, { token: this.adminToken });
      r = { log, feed, server, client, killed: false };
      this.grpcReplicas.set(key, r);
      await feed.ready;
    }
    return r;
  }

  override async publish(changes: Step[], label: Json | undefined): Promise<void> {
    const events = this.buildEvents(changes);
    let seq = 0;
    for (const event of events) {
      seq = (await this.caseLog.inner.append(subjectFor(event), toBinary(ChangeEventSchema, event))).seq;
      this.log.push({ seq, event });
    }
    if (typeof label === "string") this.labels.set(label, seq);
    for (const r of this.grpcReplicas.values()) {
      while (!r.killed && r.feed.multiwatcher.revision < seq) await settle();
    }
  }

  override async step(step: Step, expects: Json[]): Promise<string | undefined> {
    switch (step.op) {
      case "update":
      case "remove":
      case "batch":
      case "next":
      case "report":
        break;
      case "watch":
        await this.watchStream(step);
        return undefined;
      case "stop": {
        const slot = this.streams.get(String(step.watcher));
        if (!slot) throw new Error(`unknown watcher ${JSON.stringify(step.watcher)}`);
        const mw = (await this.grpcReplica(slot.replica)).feed.multiwatcher;
        const before = mw.report()["num-watchers"];
        slot.stopped = true;
        slot.queue.length = 0;
        slot.ac.abort();
        // The server learns of the cancellation asynchronously; a finished watcher no longer counts anyway.
        const until = Date.now() + blockMs;
        while (!slot.ended && mw.report()["num-watchers"] >= before && Date.now() < until) await settle();
        return undefined;
      }
      case "restart": {
        if (step.resumable !== true) throw new Error("a non-resumable restart needs a snapshot source");
        const r = await this.grpcReplica(step.replica);
        const resumes = r.feed.multiwatcher.report()["resume-count"];
        r.log.interrupt(String(step.error));
        while (r.feed.multiwatcher.report()["resume-count"] === resumes) await settle();
        return undefined;
      }
      case "kill": {
        const r = await this.grpcReplica(step.replica);
        r.killed = true;
        await r.feed.stop();
        return undefined;
      }
      case "compact":
        this.caseLog.first = this.revision(step.through) + 1;
        for (const r of this.grpcReplicas.values()) if (!r.killed) await r.feed.refreshBounds();
        return undefined;
      case "advanceClock":
        this.clock.advance(Number(step.seconds) * 1000);
        await settle();
        return undefined;
      default:
        throw new Error(`unknown op ${step.op}`);
    }
    if (step.op === "next") return this.nextMessage(step, expects);
    if (step.op === "report") {
      const r = await this.grpcReplica(step.replica);
      const m = await r.client.report({});
      const report: Report = {
        "num-watchers": Number(m.numWatchers),
        "store-size": Number(m.storeSize),
        "restart-count": Number(m.restartCount),
        "resume-count": Number(m.resumeCount),
        "queue-size": Number(m.queueSize),
        "queue-age": m.queueAge,
        revision: Number(m.revision),
        "oldest-revision": Number(m.oldestRevision),
        ...(m.errors.length > 0 ? { errors: m.errors } : {}),
      };
      return firstPass(expects, (e) => this.compareReport(report, e));
    }
    return super.step(step, expects);
  }

  async watchStream(step: Step): Promise<void> {
    const replica = typeof step.replica === "string" ? step.replica : "a";
    const r = await this.grpcReplica(replica);
    const slot: StreamSlot = {
      replica,
      ac: new AbortController(),
      queue: [],
      ended: false,
      stopped: false,
      wake: () => {},
    };
    this.streams.set(String(step.watcher), slot);
    const scope = String(step.scope);
    const since = step.since === undefined ? undefined : this.revision(step.since);
    const from = since === undefined ? undefined : { sinceRevision: BigInt(since) };
    const options = { signal: slot.ac.signal };
    const stream =
      scope === "controller"
        ? r.client.watchController({ from }, options)
        : r.client.watchModel(
            { modelUuid: scope.startsWith("model:") ? this.uuid(scope.slice("model:".length)) : scope, from },
            options,
          );
    const push = (o: Outstanding) => {
      slot.queue.push(o);
      slot.wake();
    };
    void (async () => {
      try {
        for await (const m of stream) {
          const res = m.result!;
          push({
            settled: true,
            result: {
              revision: Number(res.revision),
              snapshot: res.snapshot,
              bookmark: res.bookmark,
              deltas: res.deltas.map((d) => ({
                removed: d.removed,
                revision: Number(d.revision),
                entity: d.entity!,
              })),
            },
          });
        }
      } catch (err) {
        if (!slot.stopped) push({ settled: true, error: fromStream(err) });
      } finally {
        slot.ended = true;
        slot.wake();
      }
    })();
    // The convention: after a watch step, wait for the first message or the stream's error.
    await this.arrival(slot, answerMs);
  }

  /** Resolves when the slot has an outcome or has ended, or after `ms`. */
  async arrival(slot: StreamSlot, ms: number): Promise<void> {
    if (slot.queue.length > 0 || slot.ended) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      slot.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    slot.wake = () => {};
  }

  async nextMessage(step: Step, expects: Json[]): Promise<string | undefined> {
    const slot = this.streams.get(String(step.watcher));
    if (!slot) throw new Error(`unknown watcher ${JSON.stringify(step.watcher)}`);
    const wantsBookmark = expects.some((e) => isObject(e) && e.bookmark === true);
    const wait = expects.includes("blocks") ? blockMs : answerMs;
    let outcome: Outstanding;
    for (;;) {
      if (slot.stopped) {
        outcome = stoppedOutcome();
        break;
      }
      await this.arrival(slot, wait);
      const taken = slot.queue.shift();
      if (!taken) {
        outcome = slot.ended ? stoppedOutcome() : { settled: false };
        break;
      }
      outcome = taken;
      if (!outcome.result?.bookmark || wantsBookmark) break;
    }
    const orderInsensitive = step.orderInsensitive === true;
    return firstPass(expects, (e) => this.compareOutcome(outcome, e, orderInsensitive));
  }
}

/** Whether a case can run over gRPC: stream-safe, and no store rebuild from a snapshot source. */
function runsOverGrpc(c: Case & { streamSafe?: boolean }): boolean {
  return c.streamSafe === true && !c.steps.some((s) => s.op === "restart" && s.resumable !== true);
}

async function runGrpcCase(c: Case): Promise<string | undefined> {
  const run = new GrpcCaseRun();
  try {
    await run.open();
    for (const [i, step] of c.steps.entries()) {
      const alternatives = (c.alternatives ?? []).filter((a) => a.step === i).map((a) => a.expect);
      const failure = await run.step(step, [step.expect as Json, ...alternatives]);
      if (failure !== undefined)
        return `step ${i} (${step.op}${step.watcher ? ` ${step.watcher}` : ""}): ${failure}`;
    }
    return undefined;
  } finally {
    await run.close();
  }
}

/** Runs every case of the file's `cases` list; `deferred` cases are not run. */
export const suite: Suite = async (doc, report) => {
  const cases = (doc as { cases?: Case[] }).cases;
  if (!Array.isArray(cases)) throw new Error("case file has no cases list");
  const grpc = process.env.CONCORD_MW_CONFORMANCE === "grpc";
  for (const c of cases) {
    const overGrpc = grpc && runsOverGrpc(c);
    let failure: string | undefined;
    try {
      failure = overGrpc ? await runGrpcCase(c) : await runCase(c);
    } catch (err) {
      failure = `runner error: ${err instanceof Error ? err.message : String(err)}`;
    }
    report({ id: c.id, name: grpc ? `${c.name} [${overGrpc ? "grpc" : "domain"}]` : c.name, failure });
  }
};
