// Conformance suite for leadership.json: lease cases (layers store, manager, api), tracker cases and uniter
// cases. The store and the API come from a `LeadershipBackend`. The default backend is the real service: the
// PostgreSQL lease store on a fresh database per case, its time driven by the fake clock, and LeadershipService
// served over gRPC on a local port. The in-memory backend (in-memory store, in-process facade) remains for
// comparison. The manager, the trackers and the uniter logic always run in this process on the fake clock.
import { ManualClock, settle as settleMicrotasks } from "@concord/clock";
import { Code, ConcordError, createClient, unitTag } from "@concord/grpc";
import {
  type AuthEntity,
  defaultSecretaries,
  errorKind,
  InMemoryLeaseStore,
  LEADERSHIP_NAMESPACE,
  LeadershipFacade,
  type LeaseClient,
  LeaseError,
  type LeaseKey,
  LeaseManager,
  type LeaseStore,
  PgLeaseStore,
} from "@concord/leadership";
import { openTestLeaseStore, startTestServer, type TestLeaseStore } from "@concord/leadership/testing";
import {
  type LeadershipClaimer,
  LeadershipError,
  nextLeadershipOp,
  prepareHook,
  runLeadershipOp,
  Tracker,
  type UniterLocalState,
} from "@concord/leadership-tracker";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import type { CaseResult, Suite } from "../types";

// ---------------------------------------------------------------------------------------------------------
// The seam: what a backend must provide.

/** A store opened for one case; `close` releases it (drops the schema, ends the pool, ...). */
export interface OpenedStore {
  store: LeaseStore;
  close(): Promise<void>;
}

/**
 * The leadership API as the cases call it. In memory it is the LeadershipFacade; over gRPC it is a client
 * of a server started on the given manager. Errors must carry the API's kind names (`kind`).
 */
export interface LeadershipApiClient {
  /** Resolves with the fencing term of the lease now held. */
  claimLeadership(
    caller: AuthEntity,
    model: string,
    app: string,
    unit: string,
    durationMs: number,
  ): Promise<{ term: number }>;
  blockUntilLeadershipReleased(
    caller: AuthEntity,
    model: string,
    app: string,
    signal: AbortSignal,
  ): Promise<void>;
  revokeLeadership(model: string, app: string, unit: string): Promise<void>;
  pinLeadership(model: string, app: string, entity: string): Promise<void>;
  unpinLeadership(model: string, app: string, entity: string): Promise<void>;
  leadershipCheck(model: string, app: string, unit: string): Promise<void>;
  leaders(model: string): Promise<Record<string, string>>;
}

/** An API opened for one case. */
export interface OpenedApi {
  api: LeadershipApiClient;
  close(): Promise<void>;
}

/** What the store and api layers run against. Swap it to run the same cases on PostgreSQL and gRPC. */
export interface LeadershipBackend {
  name: string;
  /** A fresh, empty store whose time follows `clock` (for PostgreSQL: the injectable SQL time source). */
  openStore(clock: ManualClock): Promise<OpenedStore>;
  /** The leadership API served over `manager` (for gRPC: a server on that manager plus a client). */
  openApi(manager: LeaseManager): Promise<OpenedApi>;
  /** Lets in-flight work settle without moving the fake clock (for a real database: its round trips). */
  settle(): Promise<void>;
  /** Releases what the backend keeps across cases (a database, ...); called once every case has run. */
  close?(): Promise<void>;
}

/** Today's backend: the in-memory store and the in-process facade. */
export const inMemoryBackend: LeadershipBackend = {
  name: "in-memory",
  openStore: async (clock) => ({ store: new InMemoryLeaseStore(clock), close: async () => {} }),
  openApi: async (manager) => {
    const facades = new Map<string, LeadershipFacade>();
    const facade = (model: string) => {
      let f = facades.get(model);
      if (!f) {
        f = new LeadershipFacade(manager.bind(LEADERSHIP_NAMESPACE, model));
        facades.set(model, f);
      }
      return f;
    };
    const api: LeadershipApiClient = {
      claimLeadership: (caller, model, app, unit, ms) => facade(model).claimLeadership(caller, app, unit, ms),
      blockUntilLeadershipReleased: (caller, model, app, signal) =>
        facade(model).blockUntilLeadershipReleased(caller, app, signal),
      revokeLeadership: (model, app, unit) => facade(model).revokeLeadership(app, unit),
      pinLeadership: (model, app, entity) => facade(model).pinLeadership(app, entity),
      unpinLeadership: (model, app, entity) => facade(model).unpinLeadership(app, entity),
      leadershipCheck: async (model, app, unit) => {
        await facade(model).leadershipCheck(app, unit).check();
      },
      leaders: (model) => facade(model).leaders(),
    };
    return { api, close: async () => {} };
  },
  settle: () => settleMicrotasks(),
};

/**
 * What is in flight between this process's pieces, so that `settle()` can wait for real I/O without moving the
 * fake clock: store calls, unary API calls, and blocking waits not yet parked in the manager (a wait counts as
 * parked from its registration until it ends; the client's call ends later, when the answer arrives).
 */
class Activity {
  store = 0;
  unary = 0;
  blocks = 0;
  parked = 0;
  #waiting: (() => void)[] = [];

  idle(): boolean {
    return this.store === 0 && this.unary === 0 && this.blocks === this.parked;
  }

  /** Applies a counter change and wakes `whenIdle` callers once nothing is in flight. */
  change(fn: (a: Activity) => void): void {
    fn(this);
    if (!this.idle()) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  async track<T>(counter: "store" | "unary" | "blocks", work: () => Promise<T>): Promise<T> {
    this.change((a) => a[counter]++);
    try {
      return await work();
    } finally {
      this.change((a) => a[counter]--);
    }
  }

  /** Resolves once idle; fails after `limitMs` of real time so that a stuck case fails instead of hanging. */
  whenIdle(limitMs: number): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const { store, unary, blocks, parked } = this;
        reject(new Error(`backend did not settle: ${show({ store, unary, blocks, parked })}`));
      }, limitMs);
      this.#waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Counts the store's calls as activity. */
function countingStore(inner: LeaseStore, activity: Activity): LeaseStore {
  const count =
    <A extends unknown[], R>(call: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      activity.track("store", () => call(...a));
  return {
    claimLease: count(inner.claimLease.bind(inner)),
    extendLease: count(inner.extendLease.bind(inner)),
    revokeLease: count(inner.revokeLease.bind(inner)),
    leases: count(inner.leases.bind(inner)),
    leaseGroup: count(inner.leaseGroup.bind(inner)),
    pinLease: count(inner.pinLease.bind(inner)),
    unpinLease: count(inner.unpinLease.bind(inner)),
    pinned: count(inner.pinned.bind(inner)),
    expireLeases: count(inner.expireLeases.bind(inner)),
    // The PostgreSQL store's fused claim is what the service runs; fault-injecting stores leave it out.
    ...(inner.claimOrExtendLease && { claimOrExtendLease: count(inner.claimOrExtendLease.bind(inner)) }),
  };
}

/** A lease client whose waits count as parked while registered in the manager. */
function parkingClient(inner: LeaseClient, activity: Activity): LeaseClient {
  return {
    ...inner,
    waitUntilExpired: (lease, options) => {
      let parked = false;
      const wait = inner.waitUntilExpired(lease, {
        ...options,
        started: () => {
          parked = true;
          activity.change((a) => a.parked++);
          options?.started?.();
        },
      });
      return wait.finally(() => {
        if (parked) activity.change((a) => a.parked--);
      });
    },
  };
}

/** The tag whose token the API is called with; callers that are no agent (machines) call as admin. */
function tagOf(caller: AuthEntity): string {
  if (caller.kind === "unit") return unitTag(caller.name);
  if (caller.kind === "application") return `application-${caller.name}`;
  return "admin";
}

/**
 * The real service: PostgreSQL (one migrated database, emptied before each case; the store's time follows the
 * case's fake clock) and LeadershipService over gRPC on a local port, served over the case's lease manager.
 */
export function postgresBackend(): LeadershipBackend {
  const activity = new Activity();
  let database: Promise<TestLeaseStore> | undefined;
  let current: { sql: TestLeaseStore["sql"]; store: PgLeaseStore } | undefined;
  return {
    name: "postgres+grpc",
    openStore: async (clock) => {
      database ??= openTestLeaseStore();
      const { sql } = await database;
      await sql`truncate leadership.lease, leadership.lease_pin, leadership.lease_term,
        leadership.leader_settings, leadership.outbox`;
      const store = new PgLeaseStore({ sql, testClock: clock });
      current = { sql, store };
      return { store: countingStore(store, activity), close: async () => {} };
    },
    close: async () => {
      if (database) await (await database).close();
    },
    openApi: async (manager) => {
      if (!current) throw new Error("openApi needs a store opened first");
      const server = await startTestServer({
        leases: { bind: (namespace, model) => parkingClient(manager.bind(namespace, model), activity) },
        store: current.store,
        sql: current.sql,
      });
      const client = createClient(LeadershipService, server.address);
      const tokens = new Map<string, Promise<string>>();
      const token = (tag: string) => {
        let t = tokens.get(tag);
        if (!t) {
          t = server.tokens.issue(tag);
          tokens.set(tag, t);
        }
        return t;
      };
      const admin = async () => ({ token: await token("admin") });
      const unary = <T>(work: () => Promise<T>) => activity.track("unary", work);
      const api: LeadershipApiClient = {
        claimLeadership: (caller, model, app, unit, durationMs) =>
          unary(async () => {
            const req = { modelUuid: model, application: app, unit, durationSeconds: durationMs / 1000 };
            const res = await client.claimLeadership(req, { token: await token(tagOf(caller)) });
            return { term: Number(res.term) };
          }),
        blockUntilLeadershipReleased: (caller, model, app, signal) =>
          activity.track("blocks", async () => {
            const req = { modelUuid: model, application: app };
            try {
              await client.blockUntilLeadershipReleased(req, { token: await token(tagOf(caller)), signal });
            } catch (err) {
              // A call cancelled on this side never hears the server's answer: it is the caller's cancel.
              if (signal.aborted) {
                throw new ConcordError(
                  Code.CANCELLED,
                  "ErrBlockCancelled",
                  "waiting for leadership cancelled by client",
                );
              }
              throw err;
            }
          }),
        revokeLeadership: (model, app, unit) =>
          unary(async () => {
            await client.revokeLeadership({ modelUuid: model, application: app, unit }, await admin());
          }),
        pinLeadership: (model, app, entity) =>
          unary(async () => {
            await client.pinLeadership({ modelUuid: model, application: app, entity }, await admin());
          }),
        unpinLeadership: (model, app, entity) =>
          unary(async () => {
            await client.unpinLeadership({ modelUuid: model, application: app, entity }, await admin());
          }),
        leadershipCheck: (model, app, unit) =>
          unary(async () => {
            await client.checkLeadership({ modelUuid: model, application: app, unit }, await admin());
          }),
        leaders: (model) =>
          unary(async () => ({ ...(await client.leaders({ modelUuid: model }, await admin())).leaders })),
      };
      return {
        api,
        close: async () => {
          client.close();
          await server.close();
        },
      };
    },
    settle: async () => {
      for (;;) {
        await settleMicrotasks();
        if (activity.idle()) {
          await settleMicrotasks();
          if (activity.idle()) return;
        }
        await activity.whenIdle(10_000);
      }
    },
  };
}

/** Builds the suite over a backend. */
export function leadershipSuite(backend: LeadershipBackend): Suite {
  return async (doc, report) => {
    const d = asRecord(doc, "document");
    const run = async (c: unknown, kind: string, fn: (c: Rec) => Promise<string | undefined>) => {
      const rec = asRecord(c, `${kind} case`);
      const result: CaseResult = { id: String(rec.id), name: String(rec.name ?? "") };
      try {
        result.failure = await fn(rec);
      } catch (err) {
        result.failure = `harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      }
      report(result);
    };
    for (const c of asArray(d.cases)) await run(c, "lease", (rec) => runLeaseCase(rec, backend));
    for (const c of asArray(d.tracker_cases)) await run(c, "tracker", (rec) => runTrackerCase(rec, backend));
    for (const c of asArray(d.uniter_cases)) await run(c, "uniter", (rec) => runUniterCase(rec));
    await backend.close?.();
  };
}

/** The suite the registry runs: real PostgreSQL and real gRPC. */
export const suite: Suite = leadershipSuite(postgresBackend());

// ---------------------------------------------------------------------------------------------------------
// Shared helpers.

type Rec = Record<string, unknown>;

function asRecord(v: unknown, what: string): Rec {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Rec;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const ms = (seconds: number) => Math.round(seconds * 1e6) / 1e3;
const seconds = (millis: number) => Math.round(millis * 1e3) / 1e6;
const quietLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
const show = (v: unknown) => JSON.stringify(v);

/** Moves the fake clock to `targetMs`, firing due timers in order and letting their work settle. */
function advanceTo(clock: ManualClock, backend: LeadershipBackend, targetMs: number): Promise<void> {
  return clock.advanceToSettled(Math.max(targetMs, clock.now()), () => backend.settle());
}

/** A call whose outcome the harness observes without awaiting it. */
interface Tracked {
  done: boolean;
  ok: boolean;
  error: unknown;
  completedAtMs: number | undefined;
}

function track(clock: ManualClock, p: Promise<unknown>): Tracked {
  const t: Tracked = { done: false, ok: false, error: undefined, completedAtMs: undefined };
  p.then(
    () => Object.assign(t, { done: true, ok: true, completedAtMs: clock.now() }),
    (error: unknown) => Object.assign(t, { done: true, ok: false, error, completedAtMs: clock.now() }),
  );
  return t;
}

/** Waits for calls to return, moving the clock through timers (retry backoff) when nothing else moves. */
async function awaitCalls(clock: ManualClock, backend: LeadershipBackend, calls: Tracked[]): Promise<void> {
  const limitMs = clock.now() + 120_000;
  for (;;) {
    await backend.settle();
    if (calls.every((c) => c.done)) return;
    const next = clock.nextTimerAt();
    if (next === undefined || next > limitMs) return;
    await advanceTo(clock, backend, next);
  }
}

function checkKnownFields(expect: Rec, known: readonly string[]): string | undefined {
  const unknown = Object.keys(expect).filter((k) => !known.includes(k));
  return unknown.length ? `unsupported expectation field(s) ${unknown.join(", ")}` : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Lease cases: layers store, manager and api.

interface StoreFault {
  op: string;
  from: number;
  to: number;
  error: string;
}

function parseFaults(inject: unknown): StoreFault[] {
  if (inject === undefined) return [];
  return asArray(asRecord(inject, "inject").store_faults).map((f) => {
    const fault = asRecord(f, "store fault");
    const nth = String(fault.nth);
    const [from, to] = nth.includes("-") ? nth.split("-").map(Number) : [Number(nth), Number(nth)];
    return { op: String(fault.op), from: from!, to: to!, error: String(fault.error) };
  });
}

/** Wraps a store so that listed calls fail, counting the calls of each operation. */
function faultyStore(
  inner: LeaseStore,
  faults: StoreFault[],
): { store: LeaseStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const fail = (op: string): void => {
    const n = (calls.get(op) ?? 0) + 1;
    calls.set(op, n);
    const fault = faults.find((f) => f.op === op && n >= f.from && n <= f.to);
    if (!fault) return;
    if (fault.error.startsWith("other:")) throw new Error(fault.error.slice("other:".length));
    throw new LeaseError(fault.error as "ErrTimeout" | "ErrInvalid");
  };
  const guard =
    <A extends unknown[], R>(op: string, call: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      fail(op);
      return call(...a);
    };
  const store: LeaseStore = {
    claimLease: guard("ClaimLease", inner.claimLease.bind(inner)),
    extendLease: guard("ExtendLease", inner.extendLease.bind(inner)),
    revokeLease: guard("RevokeLease", inner.revokeLease.bind(inner)),
    leases: guard("Leases", inner.leases.bind(inner)),
    leaseGroup: guard("LeaseGroup", inner.leaseGroup.bind(inner)),
    pinLease: guard("PinLease", inner.pinLease.bind(inner)),
    unpinLease: guard("UnpinLease", inner.unpinLease.bind(inner)),
    pinned: guard("Pinned", inner.pinned.bind(inner)),
    expireLeases: guard("ExpireLeases", inner.expireLeases.bind(inner)),
  };

  return { store, calls };
}

function parseAuth(auth: string): AuthEntity {
  const colon = auth.indexOf(":");
  const kind = auth.slice(0, colon);
  const name = auth.slice(colon + 1);
  if (kind === "unit") return { kind: "unit", name };
  if (kind === "application") return { kind: "application", name };
  if (kind === "machine") return { kind: "machine", id: name };
  throw new Error(`unknown auth ${show(auth)}`);
}

const leaseExpectFields = [
  "ok",
  "error",
  "message",
  "message_prefix",
  "leader",
  "leader_any_of",
  "blocked",
  "ok_any_of",
  "error_if_not_ok",
  "group",
  "completes_by",
  "store_calls",
  "manager_alive",
  "manager_dead_with",
] as const;

interface BoundaryResult {
  at: number;
  model: string;
  app: string;
  op: string;
  unit: string;
  ok: boolean;
}

async function runLeaseCase(c: Rec, backend: LeadershipBackend): Promise<string | undefined> {
  const layer = String(c.layer ?? "manager");
  if (!["manager", "store", "api"].includes(layer)) return `unsupported layer ${show(layer)}`;
  const clock = new ManualClock(0);
  const opened = await backend.openStore(clock);
  const faults = parseFaults(c.inject);
  const { store, calls } = faultyStore(opened.store, faults);
  const manager =
    layer === "store"
      ? undefined
      : new LeaseManager({
          store,
          clock,
          logger: quietLogger,
          secretaries: { ...defaultSecretaries },
          maxSleepMs: 60_000,
        });
  const openedApi = layer === "api" && manager ? await backend.openApi(manager) : undefined;
  const clients = new Map<string, LeaseClient>();
  const client = (model: string) => {
    let bound = clients.get(model);
    if (!bound) {
      bound = manager!.bind(LEADERSHIP_NAMESPACE, model);
      clients.set(model, bound);
    }
    return bound;
  };
  const waiters = new Map<string, { call: Tracked; cancel: AbortController }>();
  const groups = new Map<string, Tracked[]>();
  const boundary: BoundaryResult[] = [];
  const steps = asArray(c.steps).map((s) => asRecord(s, "step"));

  const keyOf = (step: Rec): LeaseKey => ({
    namespace: LEADERSHIP_NAMESPACE,
    modelUUID: String(step.model ?? "m1"),
    lease: String(step.app),
  });

  const start = (step: Rec): Promise<unknown> | undefined => {
    const op = String(step.op);
    const model = String(step.model ?? "m1");
    const app = String(step.app);
    const unit = String(step.unit);
    const durationMs = ms(Number(step.duration ?? 60));
    const entity = String(step.entity);
    const caller = () =>
      parseAuth(String(step.auth ?? (step.unit !== undefined ? `unit:${unit}` : `application:${app}`)));
    if (op === "advance") return undefined;
    if (op === "cancelBlock") {
      const w = waiters.get(String(step.id));
      if (!w) throw new Error(`cancelBlock of unknown waiter ${show(step.id)}`);
      w.cancel.abort();
      return undefined;
    }
    if (op === "stopManager") {
      if (!manager) throw new Error("stopManager needs a manager");
      return manager.stop();
    }
    if (op === "blockUntilReleased") {
      const cancel = new AbortController();
      let p: Promise<unknown>;
      if (layer === "manager") p = client(model).waitUntilExpired(app, { signal: cancel.signal });
      else if (layer === "api")
        p = openedApi!.api.blockUntilLeadershipReleased(caller(), model, app, cancel.signal);
      else throw new Error("blockUntilReleased is not a store operation");
      waiters.set(String(step.id), { call: track(clock, p), cancel });
      return undefined;
    }
    if (layer === "store") {
      const key = keyOf(step);
      switch (op) {
        case "claim":
          return store.claimLease(key, unit, durationMs);
        case "extend":
          return store.extendLease(key, unit, durationMs);
        case "revoke":
          return store.revokeLease(key, unit);
        case "pin":
          return store.pinLease(key, entity);
        case "unpin":
          return store.unpinLease(key, entity);
      }
    } else if (layer === "manager") {
      switch (op) {
        case "claim":
        case "extend":
          return client(model).claim(app, unit, durationMs);
        case "revoke":
          return client(model).revoke(app, unit);
        case "pin":
          return client(model).pin(app, entity);
        case "unpin":
          return client(model).unpin(app, entity);
        case "check":
          return client(model).token(app, unit).check();
      }
    } else {
      const api = openedApi!.api;
      switch (op) {
        case "claim":
        case "extend":
          return api.claimLeadership(caller(), model, app, unit, durationMs);
        case "revoke":
          return api.revokeLeadership(model, app, unit);
        case "pin":
          return api.pinLeadership(model, app, entity);
        case "unpin":
          return api.unpinLeadership(model, app, entity);
        case "check":
          return api.leadershipCheck(model, app, unit);
      }
    }
    throw new Error(`unsupported op ${show(op)} at layer ${layer}`);
  };

  // Steps such as advance and cancelBlock name no application: they concern the one the case last used.
  let lastApp = "";
  const leaderOf = async (step: Rec): Promise<string | null> => {
    const model = String(step.model ?? "m1");
    const app = step.app === undefined ? lastApp : String(step.app);
    if (layer === "store") {
      const [entry] = await opened.store.leases({ ...keyOf(step), lease: app });
      return entry?.info.holder ?? null;
    }
    const leaders = layer === "api" ? await openedApi!.api.leaders(model) : await client(model).leases();
    return leaders[app] ?? null;
  };

  const check = async (
    step: Rec,
    call: Tracked | undefined,
    callsBefore: number,
  ): Promise<string | undefined> => {
    if (step.expect === undefined) return undefined;
    const e = asRecord(step.expect, "expect");
    const unknown = checkKnownFields(e, leaseExpectFields);
    if (unknown) return unknown;
    const needCall = ["ok", "error", "message", "message_prefix", "ok_any_of", "completes_by"].some(
      (k) => k in e,
    );
    if (needCall && !call) return "expectation on the result of a step that returns nothing";
    if (call && needCall && !call.done) return "the call did not return";
    if (call?.done) {
      const kind = call.ok ? undefined : (errorKind(call.error) ?? `untyped error: ${messageOf(call.error)}`);
      const got = call.ok ? "ok" : `${kind} (${messageOf(call.error)})`;
      if ("ok" in e && e.ok !== call.ok) return `ok: want ${e.ok}, got ${got}`;
      if ("error" in e && !call.ok && kind !== e.error) return `error: want ${e.error}, got ${got}`;
      if ("message" in e && messageOf(call.error) !== e.message)
        return `message: want ${show(e.message)}, got ${got}`;
      if (
        "message_prefix" in e &&
        !(!call.ok && messageOf(call.error).startsWith(String(e.message_prefix)))
      ) {
        return `message_prefix: want ${show(e.message_prefix)}, got ${got}`;
      }
      if ("ok_any_of" in e) {
        if (!asArray(e.ok_any_of).includes(call.ok))
          return `ok_any_of: want one of ${show(e.ok_any_of)}, got ${got}`;
        if (!call.ok && "error_if_not_ok" in e && kind !== e.error_if_not_ok) {
          return `error_if_not_ok: want ${e.error_if_not_ok}, got ${got}`;
        }
        boundary.push({
          at: Number(step.at),
          model: String(step.model ?? "m1"),
          app: String(step.app),
          op: String(step.op),
          unit: String(step.unit),
          ok: call.ok,
        });
      }
      if ("completes_by" in e && call.completedAtMs! > ms(Number(e.completes_by)) + 1e-6) {
        return `completes_by: want by ${e.completes_by}s, returned at ${seconds(call.completedAtMs!)}s`;
      }
    }
    if ("leader" in e || "leader_any_of" in e) {
      const leader = await leaderOf(step);
      if ("leader" in e && leader !== e.leader) return `leader: want ${show(e.leader)}, got ${show(leader)}`;
      if ("leader_any_of" in e && !asArray(e.leader_any_of).includes(leader)) {
        return `leader_any_of: want one of ${show(e.leader_any_of)}, got ${show(leader)}`;
      }
    }
    if ("blocked" in e) {
      for (const [id, want] of Object.entries(asRecord(e.blocked, "blocked"))) {
        const w = waiters.get(id)?.call;
        if (!w) return `blocked: unknown waiter ${show(id)}`;
        const spec = asRecord(want, "blocked entry");
        if (spec.returned !== w.done)
          return `blocked.${id}: want returned=${spec.returned}, got returned=${w.done}`;
        if (w.done && "error" in spec) {
          const kind = w.ok ? null : (errorKind(w.error) ?? `untyped error: ${messageOf(w.error)}`);
          if (kind !== spec.error) return `blocked.${id}: want error ${show(spec.error)}, got ${show(kind)}`;
        }
      }
    }
    if ("group" in e) {
      for (const [id, want] of Object.entries(asRecord(e.group, "group"))) {
        const members = groups.get(id) ?? [];
        const spec = asRecord(want, "group entry");
        if (members.some((m) => !m.done)) return `group ${id}: a call has not returned`;
        const oks = members.filter((m) => m.ok).length;
        if ("exactly_one_ok" in spec && (oks === 1) !== spec.exactly_one_ok) {
          return `group ${id}: want exactly_one_ok=${spec.exactly_one_ok}, got ${oks} of ${members.length} ok`;
        }
      }
    }
    if ("store_calls" in e) {
      const total = faults.reduce(
        (n, f, i) => (faults.findIndex((g) => g.op === f.op) === i ? n + (calls.get(f.op) ?? 0) : n),
        0,
      );
      if (total - callsBefore !== e.store_calls)
        return `store_calls: want ${e.store_calls}, got ${total - callsBefore}`;
    }
    if ("manager_alive" in e && manager?.alive !== e.manager_alive) {
      return `manager_alive: want ${e.manager_alive}, got ${manager?.alive}`;
    }
    if ("manager_dead_with" in e) {
      const err = manager?.deathError;
      if (!manager || manager.alive || !err?.message.includes(String(e.manager_dead_with))) {
        return `manager_dead_with: want an error containing ${show(e.manager_dead_with)}, got ${show(err?.message ?? (manager?.alive ? "alive" : "clean stop"))}`;
      }
    }
    return undefined;
  };

  try {
    for (let i = 0; i < steps.length; ) {
      const first = steps[i]!;
      const batch = [first];
      while (
        first.concurrent !== undefined &&
        steps[i + batch.length]?.concurrent === first.concurrent &&
        steps[i + batch.length]?.at === first.at
      ) {
        batch.push(steps[i + batch.length]!);
      }
      await advanceTo(clock, backend, ms(Number(first.at)));
      const faultedOps = [...new Set(faults.map((f) => f.op))];
      const callsBefore = faultedOps.reduce((n, op) => n + (calls.get(op) ?? 0), 0);
      const started = batch.map((step) => {
        if (step.app !== undefined) lastApp = String(step.app);
        const p = start(step);
        return p ? track(clock, p) : undefined;
      });
      batch.forEach((step, k) => {
        if (step.concurrent !== undefined && started[k]) {
          const id = String(step.concurrent);
          groups.set(id, [...(groups.get(id) ?? []), started[k]!]);
        }
      });
      await awaitCalls(
        clock,
        backend,
        started.filter((t): t is Tracked => t !== undefined),
      );
      for (const [k, step] of batch.entries()) {
        const failure = await check(step, started[k], callsBefore);
        if (failure) return `step ${i + k + 1} (${step.op} at ${step.at}): ${failure}`;
      }
      i += batch.length;
    }
    return boundaryDisagreement(boundary);
  } finally {
    for (const w of waiters.values()) w.cancel.abort();
    await openedApi?.close();
    if (manager) {
      const stopping = track(clock, manager.stop());
      await awaitCalls(clock, backend, [stopping]);
    }
    await opened.close();
  }
}

/**
 * At a boundary instant a check by the holder and a claim by a rival may go either way, but they must
 * agree: the check passes exactly when the rival is denied.
 */
function boundaryDisagreement(results: BoundaryResult[]): string | undefined {
  for (const chk of results.filter((r) => r.op === "check")) {
    for (const claim of results) {
      if (claim.op !== "claim" || claim.at !== chk.at || claim.model !== chk.model || claim.app !== chk.app)
        continue;
      if (claim.unit === chk.unit) continue;
      if (chk.ok === claim.ok) {
        return `boundary at ${chk.at}: check by ${chk.unit} ${chk.ok ? "passed" : "failed"} but claim by ${claim.unit} ${claim.ok ? "succeeded" : "was denied"}`;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Tracker cases.

/** The claimer of a tracker case: each claim takes the next scripted result; releases follow the script. */
class ScriptedClaimer implements LeadershipClaimer {
  readonly claimCalls: { at: number; duration: number }[] = [];
  blockCalls = 0;
  readonly #clock: ManualClock;
  readonly #results: string[];
  readonly #releaseAt: number[];
  #pending: ((err: Error) => void) | undefined;

  constructor(clock: ManualClock, c: Rec) {
    this.#clock = clock;
    this.#results = asArray(c.claim_results).map(String);
    this.#releaseAt = asArray(c.release_at).map(Number);
    for (const r of asArray(c.release_errors)) {
      const re = asRecord(r, "release error");
      clock.setTimer(ms(Number(re.at)) - clock.now(), () => this.#pending?.(new Error(String(re.error))));
    }
  }

  async claimLeadership(_app: string, _unit: string, durationMs: number): Promise<{ term: number }> {
    this.claimCalls.push({ at: seconds(this.#clock.now()), duration: seconds(durationMs) });
    const result = this.#results.shift() ?? "ok";
    if (result === "ok") return { term: 1 };
    if (result === "denied") throw new LeadershipError("ErrClaimDenied");
    if (result.startsWith("error:")) throw new Error(result.slice("error:".length));
    throw new Error(`unknown scripted claim result ${show(result)}`);
  }

  blockUntilLeadershipReleased(_app: string, signal: AbortSignal): Promise<void> {
    const releaseAt = this.#releaseAt[this.blockCalls++];
    return new Promise<void>((resolve, reject) => {
      const end = (err?: Error) => {
        timer?.cancel();
        if (this.#pending === fail) this.#pending = undefined;
        signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const fail = (err: Error) => end(err);
      const onAbort = () => end(new LeadershipError("ErrBlockCancelled"));
      const timer =
        releaseAt === undefined
          ? undefined
          : this.#clock.setTimer(ms(releaseAt) - this.#clock.now(), () => end());
      this.#pending = fail;
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** A claimer over the leadership API as `unit` itself, counting its calls. */
function apiClaimer(
  api: LeadershipApiClient,
  clock: ManualClock,
  unit: string,
  counts: { claims: { at: number; duration: number }[]; blocks: number },
): LeadershipClaimer {
  const caller: AuthEntity = { kind: "unit", name: unit };
  return {
    claimLeadership: async (app, u, durationMs) => {
      counts.claims.push({ at: seconds(clock.now()), duration: seconds(durationMs) });
      return api.claimLeadership(caller, "m1", app, u, durationMs);
    },
    blockUntilLeadershipReleased: (app, signal) => {
      counts.blocks++;
      return api.blockUntilLeadershipReleased(caller, "m1", app, signal);
    },
  };
}

const trackerExpectFields = [
  "claim_calls",
  "block_calls",
  "block_calls_by",
  "tickets",
  "tracker_error",
  "leader",
] as const;

interface TrackerRun {
  tracker: Tracker;
  dead: boolean;
  error: string | null;
}

async function runTrackerCase(c: Rec, backend: LeadershipBackend): Promise<string | undefined> {
  const layer = c.layer === undefined ? "tracker" : String(c.layer);
  if (layer !== "tracker" && layer !== "tracker+manager") return `unsupported layer ${show(layer)}`;
  const clock = new ManualClock(0);
  const scripted = layer === "tracker" ? new ScriptedClaimer(clock, c) : undefined;
  const opened = scripted ? undefined : await backend.openStore(clock);
  const manager = opened
    ? new LeaseManager({
        store: opened.store,
        clock,
        logger: quietLogger,
        secretaries: { ...defaultSecretaries },
        maxSleepMs: 60_000,
      })
    : undefined;
  const openedApi = manager ? await backend.openApi(manager) : undefined;
  const counts = new Map<string, { claims: { at: number; duration: number }[]; blocks: number }>();
  const trackers = new Map<string, TrackerRun>();
  const tickets = new Map<string, { ready: boolean; value: boolean | undefined }>();
  let current: string | undefined;

  const claimerFor = (unit: string): LeadershipClaimer => {
    if (scripted) return scripted;
    let n = counts.get(unit);
    if (!n) {
      n = { claims: [], blocks: 0 };
      counts.set(unit, n);
    }
    return apiClaimer(openedApi!.api, clock, unit, n);
  };
  const runFor = (step: Rec): TrackerRun => {
    const unit = step.unit === undefined ? current : String(step.unit);
    const run = unit === undefined ? undefined : trackers.get(unit);
    if (!run) throw new Error(`no tracker for ${show(unit)}`);
    return run;
  };

  const check = async (step: Rec): Promise<string | undefined> => {
    if (step.expect === undefined) return undefined;
    const e = asRecord(step.expect, "expect");
    const unknown = checkKnownFields(e, trackerExpectFields);
    if (unknown) return unknown;
    if ("claim_calls" in e) {
      const got = scripted ? scripted.claimCalls : [...counts.values()].flatMap((n) => n.claims);
      if (show(got) !== show(e.claim_calls))
        return `claim_calls: want ${show(e.claim_calls)}, got ${show(got)}`;
    }
    if ("block_calls" in e) {
      const got = scripted ? scripted.blockCalls : [...counts.values()].reduce((n, x) => n + x.blocks, 0);
      if (got !== e.block_calls) return `block_calls: want ${e.block_calls}, got ${got}`;
    }
    if ("block_calls_by" in e) {
      for (const [unit, want] of Object.entries(asRecord(e.block_calls_by, "block_calls_by"))) {
        const got = counts.get(unit)?.blocks ?? 0;
        if (got !== want) return `block_calls_by.${unit}: want ${want}, got ${got}`;
      }
    }
    if ("tickets" in e) {
      for (const [id, want] of Object.entries(asRecord(e.tickets, "tickets"))) {
        const t = tickets.get(id);
        if (!t) return `tickets: unknown ticket ${show(id)}`;
        const spec = asRecord(want, "ticket");
        if (spec.ready !== t.ready) return `tickets.${id}: want ready=${spec.ready}, got ready=${t.ready}`;
        if (t.ready && "wait" in spec && spec.wait !== t.value) {
          return `tickets.${id}: want wait=${spec.wait}, got wait=${t.value}`;
        }
      }
    }
    if ("tracker_error" in e) {
      const run = runFor(step);
      const got = run.dead ? run.error : null;
      if (got !== e.tracker_error) return `tracker_error: want ${show(e.tracker_error)}, got ${show(got)}`;
    }
    if ("leader" in e) {
      if (!openedApi) return "leader: needs layer tracker+manager";
      const leader = leaderOfTrackedApp(await openedApi.api.leaders("m1"), trackers);
      if (leader !== e.leader) return `leader: want ${show(e.leader)}, got ${show(leader)}`;
    }
    return undefined;
  };

  try {
    const steps = asArray(c.steps).map((s) => asRecord(s, "step"));
    for (const [i, step] of steps.entries()) {
      const atMs = ms(Number(step.at));
      await advanceTo(clock, backend, atMs);
      const op = String(step.op);
      let waitFor: Tracked | undefined;
      switch (op) {
        case "trackerStart": {
          const unit = String(step.unit);
          const tracker = new Tracker({
            claimer: claimerFor(unit),
            unitName: unit,
            clock,
            guaranteeMs: ms(Number(step.guarantee ?? 30)),
          });
          const run: TrackerRun = { tracker, dead: false, error: null };
          tracker.wait().then((err) => Object.assign(run, { dead: true, error: err ? err.message : null }));
          trackers.set(unit, run);
          current = unit;
          break;
        }
        case "trackerStop":
          waitFor = track(clock, runFor(step).tracker.stop());
          break;
        case "ticketClaimLeader":
        case "ticketWaitLeader":
        case "ticketWaitMinion": {
          const tracker = runFor(step).tracker;
          const ticket =
            op === "ticketClaimLeader"
              ? tracker.claimLeader()
              : op === "ticketWaitLeader"
                ? tracker.waitLeader()
                : tracker.waitMinion();
          const state = { ready: false, value: undefined as boolean | undefined };
          tickets.set(String(step.id), state);
          ticket.wait().then((value) => Object.assign(state, { ready: true, value }));
          break;
        }
        case "advance":
          break;
        default:
          return `step ${i + 1}: unsupported op ${show(op)}`;
      }
      if (waitFor) await awaitCalls(clock, backend, [waitFor]);
      await advanceTo(clock, backend, clock.now());
      const failure = await check(step);
      if (failure) return `step ${i + 1} (${op} at ${step.at}): ${failure}`;
    }
    return undefined;
  } finally {
    for (const run of trackers.values()) run.tracker.kill();
    await advanceTo(clock, backend, clock.now());
    await openedApi?.close();
    if (manager) await awaitCalls(clock, backend, [track(clock, manager.stop())]);
    await opened?.close();
  }
}

/** The leader of the trackers' application (tracker cases name units, not the application). */
function leaderOfTrackedApp(
  leaders: Record<string, string>,
  trackers: Map<string, TrackerRun>,
): string | null {
  for (const run of trackers.values()) {
    const leader = leaders[run.tracker.applicationName()];
    if (leader !== undefined) return leader;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Uniter cases.

const uniterExpectFields = [
  "next_op",
  "queued_hook",
  "hook",
  "local_after",
  "prepare_result",
  "hook_ran",
] as const;

const localFieldNames: Record<string, keyof UniterLocalState> = {
  installed: "installed",
  leader: "leader",
  kind: "kind",
  leader_settings_version: "leaderSettingsVersion",
  step: "step",
  hook: "hook",
};

async function runUniterCase(c: Rec): Promise<string | undefined> {
  const l = asRecord(c.local, "local");
  const r = asRecord(c.remote ?? {}, "remote");
  const e = asRecord(c.expect, "expect");
  const unknown = checkKnownFields(e, uniterExpectFields);
  if (unknown) return unknown;
  const local = {
    installed: Boolean(l.installed),
    leader: Boolean(l.leader),
    kind: String(l.kind ?? "continue"),
    leaderSettingsVersion: Number(l.leader_settings_version ?? 0),
    ...(l.step !== undefined ? { step: String(l.step) } : {}),
    ...(l.hook !== undefined ? { hook: String(l.hook) } : {}),
  } as UniterLocalState;
  const remote = {
    leader: Boolean(r.leader),
    life: String(r.life ?? "alive") as "alive" | "dying" | "dead",
    leaderSettingsVersion: Number(r.leader_settings_version ?? 0),
  };

  if ("prepare_result" in e || "hook_ran" in e) {
    if (local.hook === undefined) return "prepare expectations need a pending hook in 'local'";
    const answer = c.is_leader_at_prepare;
    const prepared = await prepareHook(local.hook, async () => {
      if (typeof answer !== "boolean") throw new Error("leadership status unknown");
      return answer;
    });
    if ("prepare_result" in e) {
      const want = e.prepare_result === null ? "run" : e.prepare_result;
      if (prepared !== want) return `prepare_result: want ${show(e.prepare_result)}, got ${show(prepared)}`;
    }
    if ("hook_ran" in e && (prepared === "run") !== e.hook_ran) {
      return `hook_ran: want ${e.hook_ran}, got ${prepared === "run"}`;
    }
  }

  const op = nextLeadershipOp(local, remote);
  const name = op?.kind ?? "none";
  if ("next_op" in e && name !== e.next_op) return `next_op: want ${show(e.next_op)}, got ${show(name)}`;
  if (!op) {
    if (e.queued_hook !== undefined && e.queued_hook !== null)
      return `queued_hook: want ${show(e.queued_hook)}, got none`;
    if (e.hook !== undefined) return `hook: want ${show(e.hook)}, got no operation`;
    if (e.local_after !== undefined) return "local_after: no operation ran";
    return undefined;
  }
  if ("hook" in e && (op.kind === "RunHook" ? op.hook : null) !== e.hook) {
    return `hook: want ${show(e.hook)}, got ${show(op.kind === "RunHook" ? op.hook : null)}`;
  }
  const outcome = runLeadershipOp(op, local);
  if ("queued_hook" in e && (outcome.queuedHook ?? null) !== e.queued_hook) {
    return `queued_hook: want ${show(e.queued_hook)}, got ${show(outcome.queuedHook ?? null)}`;
  }
  if ("local_after" in e) {
    for (const [field, want] of Object.entries(asRecord(e.local_after, "local_after"))) {
      const key = localFieldNames[field];
      if (!key) return `local_after: unknown field ${show(field)}`;
      const got = outcome.state[key] ?? null;
      if (got !== want) return `local_after.${field}: want ${show(want)}, got ${show(got)}`;
    }
  }
  return undefined;
}
