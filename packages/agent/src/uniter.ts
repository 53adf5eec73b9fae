// The uniter: one unit's hooks, one at a time (spec relation-hooks §4, §6, §10; leadership §11.2). It learns
// the unit's relations, joins them, feeds each relation's membership stream into its hook queue, and runs
// each hook from the charm directory under the machine lock, committing state only after the hook succeeded.
// When its own unit turns dying it departs and breaks every relation, then marks the unit dead (Juju's
// uniter then ends with ErrTerminateAgent).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "@concord/clock";
import { type HookLock, isHookError, newContextId, runHook, unitHookEnv } from "@concord/hook-runner";
import {
  CreatedRelations,
  type HookInfo,
  HookKind,
  Relationer,
  readAllStateDirs,
  readStateDir,
  type StateDir,
} from "@concord/relation-hooks";
import { type ContextLeadership, type ContextRelation, HookContext } from "./hook-context";
import type { ToolServer } from "./tool-server";
import type { AgentLogger, Life, RelationApi, RelationInfo, UnitInfo, UnitRelationsChange } from "./types";

/** A leadership hook the uniter may run (leader-elected, leader-settings-changed); see leadership.ts. */
export interface LeadershipHook {
  name: string;
  /** Just before it runs: false skips it (leader-elected of a unit no longer leader). */
  shouldRun(): Promise<boolean>;
  /** Records that the hook ran (or was skipped). */
  commit(): void;
}

/** The leadership side of the uniter (the leadership resolver of spec leadership §11.2). */
export interface UniterLeadership {
  /** The next leadership hook to run, applying hook-less operations (resign) on the way; undefined if none. */
  nextHook(): LeadershipHook | undefined;
  /** A fresh leadership context for one hook execution. */
  hookContext(): ContextLeadership;
  /** Calls `listener` whenever leadership or leader settings change. */
  onChange(listener: () => void): void;
}

/** The meter status every hook exports as JUJU_METER_STATUS / JUJU_METER_INFO. */
export type MeterStatusSource = () => Promise<{ code: string; info: string }>;

/** Back-off of a failed hook (Juju: 5 s doubling to 5 min). */
export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

/** Juju's hook retry back-off. */
export const DEFAULT_RETRY: RetryPolicy = { initialMs: 5_000, maxMs: 300_000, factor: 2 };

/** Everything a Uniter needs. */
export interface UniterConfig {
  /** The unit, `wordpress/0`. */
  unitName: string;
  modelUuid: string;
  charmDir: string;
  /** Relation state directories live in `<dataDir>/relations`. */
  dataDir: string;
  api: RelationApi;
  lock: HookLock;
  tools: ToolServer;
  /** The hook-command socket, exported to hooks. */
  socketPath: string;
  /** Put first on the hooks' PATH: the hook tools. */
  toolsDir: string;
  clock: Clock;
  logger: AgentLogger;
  retry?: RetryPolicy;
  leadership?: UniterLeadership;
  meterStatus?: MeterStatusSource;
  /** Kills a hook running longer; none by default, as in Juju. */
  hookTimeoutMs?: number;
}

interface Entry {
  info: RelationInfo;
  endpoint: string;
  remoteApplication: string;
  stateDir: StateDir;
  relationer: Relationer;
  /** Ends the membership stream. */
  stream: AbortController;
  dying: "no" | "requested" | "applied";
  /** The dying source applied departs the local unit (JUJU_DEPARTING_UNIT), its unit being dying. */
  localDying: boolean;
}

/** How a uniter's run ended: stopped on request, or its unit is dead and the agent must terminate. */
export type UniterOutcome = "stopped" | "dead";

type Job = { kind: "relation"; entry: Entry; hook: HookInfo } | { kind: "leadership"; hook: LeadershipHook };

/** A hook that ran and failed: retried with back-off, and nothing runs before it succeeds. */
function isHookFailure(err: unknown): boolean {
  return isHookError(err) && err.kind !== "NotValid" && err.kind !== "Cancelled";
}

/** Failed while writing relation-set changes after the hook ran: the hook runs again. */
class FlushError extends Error {
  override readonly name = "FlushError";
}

/**
 * Runs one unit's hooks until stopped. `run()` rejects on anything it cannot recover from in place (a
 * watcher that failed, a hook refused by validation); the agent then starts a new Uniter, which resumes
 * from the committed state: no hook is lost, and only the hook that was running repeats.
 */
export class Uniter {
  readonly #config: UniterConfig;
  readonly #retry: RetryPolicy;
  readonly #application: string;
  readonly #relationsDir: string;
  readonly #created = new CreatedRelations();
  readonly #entries = new Map<number, Entry>();
  readonly #stop = new AbortController();
  #stateDirs = new Map<number, StateDir>();
  #error: unknown;
  #dirty = false;
  #wake: (() => void) | undefined;
  #events: Promise<void> = Promise.resolve();
  #hooksRun = 0;
  /** The unit's life; undefined until WatchUnit's first message, "dead" once the unit is gone. */
  #life: Life | undefined;
  #unitKnown!: () => void;
  readonly #unitKnownP = new Promise<void>((resolve) => {
    this.#unitKnown = resolve;
  });
  /** The first relations event has been applied, and how many events are being applied now. */
  #relationsKnown = false;
  #applying = 0;

  constructor(config: UniterConfig) {
    if (!/^[a-z][a-z0-9-]*\/\d+$/.test(config.unitName))
      throw new Error(`unit name ${JSON.stringify(config.unitName)} not valid`);
    this.#config = config;
    this.#retry = config.retry ?? DEFAULT_RETRY;
    this.#application = config.unitName.slice(0, config.unitName.indexOf("/"));
    this.#relationsDir = join(config.dataDir, "relations");
  }

  /** How many hooks ran to success (for tests and logs). */
  get hooksRun(): number {
    return this.#hooksRun;
  }

  /** Asks the uniter to stop once the running hook (if any) has finished. */
  stop(): void {
    this.#stop.abort();
    this.#poke();
  }

  /**
   * Runs until stopped (resolves "stopped"), until the unit is dead (resolves "dead") or until something
   * fails (rejects).
   */
  async run(): Promise<UniterOutcome> {
    this.#stateDirs = await readAllStateDirs(this.#relationsDir);
    this.#config.leadership?.onChange(() => this.#poke());
    void this.#watchUnit();
    void this.#watchRelations();
    try {
      return await this.#loop();
    } finally {
      this.#stop.abort();
      this.#unitKnown();
      for (const entry of this.#entries.values()) entry.stream.abort();
    }
  }

  async #loop(): Promise<UniterOutcome> {
    for (;;) {
      this.#check();
      if (this.#stop.signal.aborted) return "stopped";
      if (this.#life === "dead") return "dead";
      await this.#applyDying();
      const job = await this.#pick();
      if (!job) {
        if (await this.#ensureDead()) return "dead";
        await this.#idle();
        continue;
      }
      await this.#runWithRetry(job);
    }
  }

  get #unitDying(): boolean {
    return this.#life !== undefined && this.#life !== "alive";
  }

  // Juju's ModeDying: once every relation is broken and left, the unit is marked dead. A refusal (a relation
  // scope or a subordinate remains) fails the uniter, which tries again after its restart delay.
  async #ensureDead(): Promise<boolean> {
    if (!this.#unitDying || !this.#relationsKnown || this.#applying > 0 || this.#entries.size > 0)
      return false;
    await this.#config.api.ensureUnitDead();
    this.#life = "dead";
    this.#config.logger.info({ unit: this.#config.unitName }, "unit is dead: terminating the agent");
    return true;
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  #fail(err: unknown): void {
    if (this.#error === undefined) this.#error = err;
    this.#poke();
  }

  #poke(): void {
    this.#dirty = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #idle(): Promise<void> {
    if (this.#dirty) {
      this.#dirty = false;
      return;
    }
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    this.#dirty = false;
  }

  // Leadership first (Juju's resolver asks it before relations), then relations by id.
  async #pick(): Promise<Job | undefined> {
    const leaderHook = this.#config.leadership?.nextHook();
    if (leaderHook) return { kind: "leadership", hook: leaderHook };
    for (const entry of [...this.#entries.values()].sort((a, b) => a.info.id - b.info.id)) {
      const queue = entry.relationer.queue;
      if (queue.closed || queue.source.empty()) continue;
      const hook = await queue.next();
      if (hook) return { kind: "relation", entry, hook };
    }
    return undefined;
  }

  // Dying is applied between hooks, so the dying source is built from a state with every taken hook committed.
  async #applyDying(): Promise<void> {
    for (const entry of [...this.#entries.values()]) {
      if (entry.dying !== "requested") continue;
      entry.dying = "applied";
      entry.localDying = this.#unitDying;
      entry.stream.abort();
      this.#config.logger.info(
        { relation: entry.info.id, unitDying: entry.localDying },
        entry.localDying ? "unit dying: leaving the relation" : "relation dying: departing its units",
      );
      // A unit dying after its relation rebuilds the source from the committed state, departing as itself.
      await entry.relationer.setDying({ localUnitDying: entry.localDying });
      if (entry.relationer.queue.closed) this.#forget(entry);
    }
  }

  async #runWithRetry(job: Job): Promise<void> {
    let delay = this.#retry.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#runJob(job);
        return;
      } catch (err) {
        if (!isHookFailure(err) && !(err instanceof FlushError)) throw err;
        const name = job.kind === "relation" ? `${job.entry.endpoint}-${job.hook.kind}` : job.hook.name;
        const hookErr = err as { stderr?: string };
        this.#config.logger.error(
          { hook: name, attempt, retryInMs: delay, error: (err as Error).message, stderr: hookErr.stderr },
          `hook failed: ${JSON.stringify(name)}`,
        );
        await this.#sleep(delay);
        delay = Math.min(delay * this.#retry.factor, this.#retry.maxMs);
        this.#check();
        if (this.#stop.signal.aborted) return;
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stop.signal;
      if (signal.aborted) return resolve();
      const timer = this.#config.clock.setTimer(ms, () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = () => {
        timer.cancel();
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #runJob(job: Job): Promise<void> {
    if (job.kind === "leadership") {
      if (!(await job.hook.shouldRun())) {
        this.#config.logger.info({ hook: job.hook.name }, "skipped hook: no longer leader");
        job.hook.commit();
        return;
      }
      await this.#execute(job.hook.name, {});
      job.hook.commit();
      return;
    }
    const { entry, hook } = job;
    // A hook refused by validation is a bug or a corrupt state: the uniter stops (spec §6 step 1).
    const hookName = entry.relationer.prepareHook(hook);
    await this.#execute(hookName, {
      relation: entry,
      hook,
    });
    await entry.relationer.commitHook(hook);
    if (entry.relationer.queue.closed) this.#forget(entry);
  }

  async #execute(hookName: string, where: { relation?: Entry; hook?: HookInfo }): Promise<void> {
    const { config } = { config: this.#config };
    const contextId = newContextId(config.unitName, hookName);
    const { relation, hook } = where;
    const ctx = new HookContext({
      id: contextId,
      unitName: config.unitName,
      api: config.api,
      relations: this.#contextRelations(hook),
      ...(relation ? { relationId: relation.info.id } : {}),
      ...(hook ? { remoteUnit: hook.remoteUnit, remoteApplication: hook.remoteApplication } : {}),
      ...(config.leadership ? { leadership: config.leadership.hookContext() } : {}),
      log: (level, message) => config.logger.info({ hook: hookName, level }, `juju-log: ${message}`),
    });
    const env: Record<string, string> = {
      ...unitHookEnv({
        unitName: config.unitName,
        modelUUID: config.modelUuid,
        contextId,
        agentSocket: { address: config.socketPath, network: "unix" },
      }),
      JUJU_AGENT_SOCKET: config.socketPath,
      PATH: `${config.toolsDir}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
    };
    if (relation && hook) {
      env.JUJU_RELATION = relation.endpoint;
      env.JUJU_RELATION_ID = `${relation.endpoint}:${relation.info.id}`;
      if (hook.remoteUnit) env.JUJU_REMOTE_UNIT = hook.remoteUnit;
      if (hook.remoteApplication) env.JUJU_REMOTE_APP = hook.remoteApplication;
      if (hook.departingUnit) env.JUJU_DEPARTING_UNIT = hook.departingUnit;
    }
    if (config.meterStatus) {
      try {
        const status = await config.meterStatus();
        env.JUJU_METER_STATUS = status.code;
        env.JUJU_METER_INFO = status.info;
      } catch (err) {
        config.logger.warn({ error: (err as Error).message }, "cannot read meter status for the hook");
      }
    }
    const unregister = config.tools.register(ctx);
    try {
      const result = await runHook({
        charmDir: config.charmDir,
        hookName,
        env,
        lock: config.lock,
        ...(config.hookTimeoutMs !== undefined ? { timeoutMs: config.hookTimeoutMs } : {}),
      });
      if (result.outcome === "skipped") {
        config.logger.info({ hook: hookName, reason: result.reason }, "skipped hook");
      } else {
        config.logger.info({ hook: hookName, ms: Math.round(result.durationMs) }, "ran hook");
      }
    } finally {
      unregister();
    }
    try {
      await ctx.flush();
    } catch (err) {
      throw new FlushError(
        `cannot write relation settings of hook "${hookName}": ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.#hooksRun++;
  }

  /** The relations a hook sees; the hook's own relation's members include a joining unit, not a departing one. */
  #contextRelations(hook: HookInfo | undefined): Map<number, ContextRelation> {
    const out = new Map<number, ContextRelation>();
    for (const entry of this.#entries.values()) {
      const members = new Set(entry.stateDir.state().members?.keys() ?? []);
      if (hook && hook.relationId === entry.info.id && hook.remoteUnit) {
        if (hook.kind === HookKind.RelationDeparted) members.delete(hook.remoteUnit);
        else if (hook.kind === HookKind.RelationJoined || hook.kind === HookKind.RelationChanged)
          members.add(hook.remoteUnit);
      }
      out.set(entry.info.id, {
        id: entry.info.id,
        uuid: entry.info.uuid,
        endpoint: entry.endpoint,
        remoteApplication: entry.remoteApplication,
        members: [...members].sort(),
      });
    }
    return out;
  }

  #forget(entry: Entry): void {
    entry.stream.abort();
    this.#entries.delete(entry.info.id);
    this.#config.logger.info({ relation: entry.info.id }, "relation broken: left scope");
  }

  async #watchUnit(): Promise<void> {
    try {
      for await (const unit of this.#config.api.watchUnit(this.#stop.signal)) this.#onUnit(unit);
      // The unit was removed (by this agent's EnsureUnitDead before a restart, or by an administrator).
      if (!this.#stop.signal.aborted) this.#onUnit(undefined);
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#fail(err);
    }
  }

  #onUnit(unit: UnitInfo | undefined): void {
    const wasDying = this.#unitDying;
    this.#life = unit ? unit.life : "dead";
    this.#unitKnown();
    if (!unit) this.#config.logger.info({ unit: this.#config.unitName }, "unit removed");
    else if (this.#unitDying && !wasDying) {
      this.#config.logger.info({ unit: unit.name, life: unit.life }, "unit dying: leaving every relation");
      for (const entry of this.#entries.values()) this.#requestDying(entry);
    }
    this.#poke();
  }

  async #watchRelations(): Promise<void> {
    let first = true;
    try {
      // Joining depends on the unit's life: a dying unit enters no scope.
      await this.#unitKnownP;
      for await (const change of this.#config.api.watchUnitRelations(this.#stop.signal)) {
        const isFirst = first;
        first = false;
        this.#applying++;
        this.#events = this.#events.then(() => this.#onRelations(change, isFirst));
        try {
          await this.#events;
        } finally {
          this.#applying--;
        }
        this.#relationsKnown = true;
        this.#poke();
      }
      if (!this.#stop.signal.aborted) this.#fail(new Error("relations watcher ended"));
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#fail(err);
    }
  }

  async #onRelations(change: UnitRelationsChange, first: boolean): Promise<void> {
    const unit = this.#config.unitName;
    if (first) {
      // Spec §6 startup: relations already in scope have run relation-created; state of others goes.
      const inScope = new Set(change.changed.filter((r) => r.unitsInScope.includes(unit)).map((r) => r.id));
      for (const id of inScope) this.#created.mark(id);
      for (const [id, dir] of this.#stateDirs) {
        if (inScope.has(id)) continue;
        await this.#removeStateDir(dir);
        this.#stateDirs.delete(id);
      }
    }
    for (const r of change.changed) await this.#relationChanged(r);
    for (const uuid of change.removed) {
      const entry = [...this.#entries.values()].find((e) => e.info.uuid === uuid);
      if (entry) this.#requestDying(entry);
    }
    this.#poke();
  }

  async #removeStateDir(dir: StateDir): Promise<void> {
    try {
      await dir.remove();
    } catch (err) {
      // Units still recorded in a relation we are no longer in scope of: nothing can depart them any more.
      this.#config.logger.warn(
        { relation: dir.relationId, error: (err as Error).message },
        "removing state of a relation no longer in scope",
      );
      await rm(dir.path, { recursive: true, force: true });
    }
  }

  async #relationChanged(r: RelationInfo): Promise<void> {
    const local = r.endpoints.find((e) => e.application === this.#application);
    if (!local) return;
    const alive = r.life === "alive" && !r.suspended;
    const existing = this.#entries.get(r.id);
    if (existing) {
      existing.info = r;
      if (!alive) this.#requestDying(existing);
      return;
    }
    const inScope = r.unitsInScope.includes(this.#config.unitName);
    // Never joined, and it (or the unit) is going away: nothing to run.
    if ((!alive || this.#unitDying) && !inScope) return;
    const stateDir = this.#stateDirs.get(r.id) ?? (await readStateDir(this.#relationsDir, r.id));
    this.#stateDirs.delete(r.id);
    const remoteApplication =
      r.endpoints.find((e) => e.application !== this.#application)?.application ?? this.#application;
    const api = this.#config.api;
    const relationer = new Relationer({
      stateDir,
      endpointName: local.name,
      remoteApplication,
      localUnit: this.#config.unitName,
      implicit: local.name === "juju-info",
      created: this.#created,
      scope: {
        // Already in scope after a restart: entering again could be refused for a dying relation.
        enter: inScope ? async () => {} : () => api.enterScope(r.uuid),
        leave: () => api.leaveScope(r.uuid),
      },
    });
    await relationer.join();
    const entry: Entry = {
      info: r,
      endpoint: local.name,
      remoteApplication,
      stateDir,
      relationer,
      stream: new AbortController(),
      dying: "no",
      localDying: false,
    };
    this.#entries.set(r.id, entry);
    this.#config.logger.info(
      { relation: r.id, endpoint: local.name, remote: remoteApplication },
      "joined relation",
    );
    if (alive && !this.#unitDying) void this.#feed(entry);
    else this.#requestDying(entry);
  }

  #requestDying(entry: Entry): void {
    if (entry.dying === "no" || (entry.dying === "applied" && this.#unitDying && !entry.localDying))
      entry.dying = "requested";
    this.#poke();
  }

  async #feed(entry: Entry): Promise<void> {
    const signal = AbortSignal.any([entry.stream.signal, this.#stop.signal]);
    try {
      for await (const change of this.#config.api.watchRelationUnits(entry.info.uuid, signal)) {
        entry.relationer.queue.update(change);
        this.#poke();
      }
      if (!signal.aborted && entry.dying === "no")
        this.#fail(new Error(`relation ${entry.info.id} units watcher ended`));
    } catch (err) {
      if (!signal.aborted && entry.dying === "no") this.#fail(err);
    }
  }
}
