import type { ChangeEvent } from "@concord/proto/events/v1/events";
import { CommitAssembler } from "./commit-assembler";
import { type Change, decodeChange, entityKey } from "./entity";
import { MultiwatcherError, multiwatcherStopped, watcherStopped } from "./errors";
import { controllerScope, modelScope, validateScope } from "./scope";
import { type LoadedEntity, Store } from "./store";
import type {
  ApplyOutcome,
  Clock,
  EntityKey,
  LogBounds,
  Logger,
  MultiwatcherConfig,
  MultiwatcherMetrics,
  Report,
  ResultType,
  Scope,
  Snapshot,
  Timer,
  WatchOptions,
  WatchResult,
} from "./types";
import { Watcher, type WatcherOwner } from "./watcher";

/** Default `removedRetentionMs`: 5 minutes (spec §6.1). */
export const defaultRemovedRetentionMs = 5 * 60 * 1000;
/** Default `bookmarkIntervalMs`: 30 seconds (spec §6.1). */
export const defaultBookmarkIntervalMs = 30 * 1000;

const keptErrors = 5;

interface WatcherState {
  readonly watcher: Watcher;
  readonly scope: Scope;
  readonly since: number | undefined;
  /** open: counts as a watcher; failed: holds an undelivered error; finished: every call is "stopped". */
  status: "open" | "failed" | "finished";
  /** The revision of the last result; undefined before the first. */
  position: number | undefined;
  pending: { resolve: (r: WatchResult) => void; reject: (e: MultiwatcherError) => void } | undefined;
  error: MultiwatcherError | undefined;
  bookmarkTimer: Timer | undefined;
  boundsRefresh: "none" | "running" | "done";
}

/** A configuration with its defaults filled in. */
export type ValidConfig = MultiwatcherConfig & { removedRetentionMs: number; bookmarkIntervalMs: number };

/** Checks a configuration and fills in defaults; a missing or bad item fails naming it (spec §6.1). */
export function validateConfig(config: MultiwatcherConfig): ValidConfig {
  if (!config?.clock) throw new MultiwatcherError("NotValid", "missing Clock not valid");
  const removedRetentionMs = config.removedRetentionMs ?? defaultRemovedRetentionMs;
  const bookmarkIntervalMs = config.bookmarkIntervalMs ?? defaultBookmarkIntervalMs;
  if (!(removedRetentionMs > 0)) {
    throw new MultiwatcherError("NotValid", "non-positive removedRetention not valid");
  }
  if (!(bookmarkIntervalMs > 0)) {
    throw new MultiwatcherError("NotValid", "non-positive bookmarkInterval not valid");
  }
  return { ...config, removedRetentionMs, bookmarkIntervalMs };
}

/**
 * One multiwatcher replica's domain (spec §4-§6, §11): the store, the watchers, and the inputs the service drives.
 *
 * The service loads a snapshot (`load`), then feeds every event after it in sequence order (`applyEvent`), reports
 * failures of its event source (`backingFailed`) and the log's retained range (`setLogBounds`). Clients open
 * watches (`watchModel`, `watchController`). Everything is synchronous except waiting in `next()`: results are
 * computed at the moment an event is applied or a call is made, so no result is ever held back.
 */
export class Multiwatcher {
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #retentionMs: number;
  readonly #bookmarkMs: number;
  readonly #config: MultiwatcherConfig;
  readonly #states = new WeakMap<Watcher, WatcherState>();
  /** Watchers that count in `num-watchers`. */
  readonly #open = new Set<WatcherState>();
  /** Watchers with a `next()` outstanding. */
  readonly #waiting = new Set<WatcherState>();
  readonly #owner: WatcherOwner = {
    next: (w) => this.#next(w),
    stop: (w) => this.#stop(w),
  };
  #store = new Store();
  #assembler = new CommitAssembler<{ seq: number; change: Change | undefined }>();
  #loaded = false;
  /** The revision a load must reach before watchers are answered (the end of a replay, spec §2.3). */
  #catchUpTo = 0;
  #shutdownError: MultiwatcherError | undefined;
  #expiryTimer: Timer | undefined;
  #nextWatcherId = 1;
  /** A: the applied revision. */
  #revision = 0;
  /** O and L of the event log, as last told. */
  #oldest = 0;
  #last = 0;
  #restarts = 0;
  #resumes = 0;
  #expired = 0;
  #badEvents = 0;
  #errors: string[] = [];
  #results: Record<ResultType, number> = { snapshot: 0, resume: 0, changes: 0, bookmark: 0 };

  constructor(config: MultiwatcherConfig) {
    const valid = validateConfig(config);
    this.#config = valid;
    this.#clock = valid.clock;
    this.#logger = valid.logger;
    this.#retentionMs = valid.removedRetentionMs;
    this.#bookmarkMs = valid.bookmarkIntervalMs;
  }

  /** Opens a watch of one model; a malformed UUID fails with NotValid (INVALID_ARGUMENT) at once. */
  watchModel(modelUUID: string, options: WatchOptions = {}): Watcher {
    return this.watch(modelScope(modelUUID), options);
  }

  /** Opens a watch of every model. */
  watchController(options: WatchOptions = {}): Watcher {
    return this.watch(controllerScope, options);
  }

  /** Opens a watch; it only registers the watcher: the store is not touched until its first `next()` (spec §5.1). */
  watch(scope: Scope, options: WatchOptions = {}): Watcher {
    const valid = validateScope(scope);
    const since = options.sinceRevision;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new MultiwatcherError("NotValid", `revision ${since} not valid`);
    }
    const watcher = new Watcher(this.#nextWatcherId++, valid, since, this.#owner);
    const state: WatcherState = {
      watcher,
      scope: valid,
      since,
      status: "open",
      position: undefined,
      pending: undefined,
      error: undefined,
      bookmarkTimer: undefined,
      boundsRefresh: "none",
    };
    this.#states.set(watcher, state);
    // After shutdown a watch is never served: its calls fail with the shutdown error (see #next).
    if (!this.#shutdownError) this.#open.add(state);
    return watcher;
  }

  /**
   * Loads the store from the snapshot source (spec §2.3), at start-up and after a non-resumable backing failure.
   * The applied revision becomes the snapshot's; the service then feeds the events after it. Watchers that asked
   * meanwhile are answered once the applied revision reaches `catchUpTo` (default: the snapshot's revision), so a
   * store rebuilt by replaying the log from an empty snapshot is never shown half-built.
   */
  load(snapshot: Snapshot, options: { catchUpTo?: number } = {}): void {
    if (this.#shutdownError) return;
    if (this.#loaded) throw new MultiwatcherError("NotValid", "store already loaded");
    const entities: LoadedEntity[] = [];
    for (const e of snapshot.entities) {
      const key = entityKey(e.entity);
      if (!key) {
        this.#badEvent(snapshot.revision, "snapshot entity has no value");
        continue;
      }
      entities.push({
        key,
        entity: e.entity,
        revision: Math.min(e.revision ?? snapshot.revision, snapshot.revision),
      });
    }
    const store = new Store();
    store.load(entities);
    this.#store = store;
    this.#assembler.clear();
    this.#revision = snapshot.revision;
    this.#last = Math.max(this.#last, snapshot.revision);
    this.#catchUpTo = Math.max(snapshot.revision, options.catchUpTo ?? 0);
    this.#loaded = true;
    this.#wakeWaiting();
  }

  /**
   * Applies one event of the log, in sequence order (spec §2.1, §6.3). Events of a multi-event commit are held
   * until the commit's last event arrives and are then applied together, taking that event's sequence (spec §2.2).
   * A redelivered sequence is ignored. A change that cannot be applied (publisher bug) is logged, counted and
   * skipped. Waiting watchers that now have something in scope are answered before this returns.
   */
  applyEvent(seq: number, event: ChangeEvent): ApplyOutcome {
    if (this.#shutdownError) return "ignored";
    if (!this.#loaded) throw new MultiwatcherError("NotValid", "event applied before the store was loaded");
    if (seq <= this.#revision) return "duplicate";
    const started = this.#config.onApply ? performance.now() : 0;
    const decoded = decodeChange(event);
    let change: Change | undefined;
    if ("invalid" in decoded) this.#badEvent(seq, decoded.invalid);
    else change = decoded;
    const commit = this.#assembler.add(event, { seq, change });
    this.#revision = seq;
    this.#last = Math.max(this.#last, seq);
    if (!commit) {
      this.#wakeWaiting();
      return "buffered";
    }
    const changes = commit.flatMap((c) => (c.change ? [c.change] : []));
    this.#store.apply(seq, changes, this.#clock.now());
    this.#config.onApply?.((performance.now() - started) / 1000);
    this.#scheduleExpiry();
    this.#wakeWaiting();
    return "applied";
  }

  /** Skips an event the service could not decode (spec §6.3): logged, counted; the applied revision advances. */
  skipEvent(seq: number, reason: string): void {
    if (this.#shutdownError || seq <= this.#revision) return;
    this.#badEvent(seq, reason);
    this.#revision = seq;
    this.#last = Math.max(this.#last, seq);
    this.#wakeWaiting();
  }

  /** Records the log's retained range (spec §11.3); history older than O is forgotten. */
  setLogBounds(bounds: LogBounds): void {
    this.#oldest = bounds.oldestRevision;
    this.#last = bounds.lastSequence;
    this.#store.pruneHistory(bounds.oldestRevision);
  }

  /**
   * Reports a failure of the event source (spec §6.4). Resumable: recorded and counted; the service resumes its
   * consumer at `nextSequence` and watchers see only a delay. Not resumable: every existing watcher gets the
   * error once, the store is dropped, and the service must `load` a new snapshot (watchers wait meanwhile).
   */
  backingFailed(error: unknown, options: { resumable: boolean }): void {
    if (this.#shutdownError) return;
    const message = error instanceof Error ? error.message : String(error);
    this.#errors = [...this.#errors, message].slice(-keptErrors);
    if (options.resumable) {
      this.#resumes++;
      this.#logger?.warn({ err: message, resumeAt: this.nextSequence }, "event source failed; resuming");
      return;
    }
    this.#restarts++;
    this.#logger?.error({ err: message }, "event source failed; rebuilding the store");
    const failure = new MultiwatcherError("BackingFailed", message, { cause: error });
    for (const state of [...this.#open]) this.#fail(state, failure);
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
    this.#store = new Store();
    this.#assembler.clear();
    this.#loaded = false;
  }

  /**
   * Shuts down (spec §6.5): the outstanding and every later `next()` fail with "shared state watcher was stopped"
   * (or with `error`, the process's own failure); later events are ignored. Idempotent.
   */
  shutdown(error?: MultiwatcherError): void {
    if (this.#shutdownError) return;
    this.#shutdownError = error ?? multiwatcherStopped();
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
    for (const state of [...this.#open]) {
      state.bookmarkTimer?.cancel();
      state.bookmarkTimer = undefined;
      const pending = state.pending;
      state.pending = undefined;
      pending?.reject(this.#shutdownError);
    }
    this.#waiting.clear();
  }

  /** The applied revision A. */
  get revision(): number {
    return this.#revision;
  }

  /** The sequence the event-log consumer continues from: A + 1. */
  get nextSequence(): number {
    return this.#revision + 1;
  }

  /** True once a snapshot is loaded (and until a non-resumable failure). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** True once the store is loaded and caught up (see `load`): watchers are being answered. */
  get serving(): boolean {
    return this.#loaded && this.#revision >= this.#catchUpTo;
  }

  /** True when the store holds the entity and it is not removed (for authorisation checks). */
  isLive(key: EntityKey): boolean {
    return this.#store.isLive(key);
  }

  /** The report of spec §10.1. */
  report(): Report {
    const queue = this.#config.queueStats?.() ?? { size: 0, ageSeconds: 0 };
    const report: Report = {
      "num-watchers": this.#open.size,
      "store-size": this.#store.size,
      "restart-count": this.#restarts,
      "resume-count": this.#resumes,
      "queue-size": queue.size,
      "queue-age": queue.ageSeconds,
      revision: this.#revision,
      "oldest-revision": this.#oldest,
    };
    if (this.#errors.length > 0) report.errors = [...this.#errors];
    return report;
  }

  /** The values of the Prometheus metrics of spec §10.2 (the apply histogram comes through `onApply`). */
  metrics(): MultiwatcherMetrics {
    const r = this.report();
    return {
      watchers: r["num-watchers"],
      storeEntries: r["store-size"],
      restartsTotal: r["restart-count"],
      resumesTotal: r["resume-count"],
      queueSize: r["queue-size"],
      queueAgeSeconds: r["queue-age"],
      revision: r.revision,
      oldestRevision: r["oldest-revision"],
      expiredWatchersTotal: this.#expired,
      badEventsTotal: this.#badEvents,
      resultsTotal: { ...this.#results },
    };
  }

  #next(watcher: Watcher): Promise<WatchResult> {
    const state = this.#states.get(watcher);
    if (!state || state.status === "finished") return Promise.reject(watcherStopped());
    if (state.status === "failed") {
      state.status = "finished";
      const error = state.error ?? watcherStopped();
      state.error = undefined;
      return Promise.reject(error);
    }
    if (this.#shutdownError) return Promise.reject(this.#shutdownError);
    if (state.pending) {
      return Promise.reject(
        new MultiwatcherError("CallInProgress", "a next call is already outstanding on this watcher"),
      );
    }
    return new Promise<WatchResult>((resolve, reject) => {
      state.pending = { resolve, reject };
      this.#waiting.add(state);
      this.#serve(state);
    });
  }

  #stop(watcher: Watcher): void {
    const state = this.#states.get(watcher);
    if (!state || state.status === "finished" || this.#shutdownError) return;
    const pending = state.pending;
    state.status = "finished";
    state.error = undefined;
    this.#detach(state);
    pending?.reject(watcherStopped());
  }

  /** Answers an outstanding `next()` if there is something to answer; otherwise leaves it waiting. */
  #serve(state: WatcherState): void {
    if (!state.pending || !this.serving || this.#shutdownError) return;
    const a = this.#revision;
    if (state.position === undefined) {
      if (state.since === undefined) {
        const deltas = this.#store.snapshot(state.scope, state);
        this.#answer(state, { revision: a, snapshot: true, bookmark: false, deltas }, "snapshot");
        return;
      }
      this.#serveResume(state, state.since);
      return;
    }
    const deltas = this.#store.changesSince(state.scope, state.position, state);
    if (deltas.length > 0) {
      this.#answer(state, { revision: a, snapshot: false, bookmark: false, deltas }, "changes");
      return;
    }
    // Nothing in scope up to A: later checks can start from A (spec §4.5).
    state.position = a;
    state.bookmarkTimer ??= this.#clock.setTimer(this.#bookmarkMs, () => this.#bookmark(state));
  }

  #serveResume(state: WatcherState, since: number): void {
    if (state.boundsRefresh === "running") return;
    const a = this.#revision;
    const last = Math.max(this.#last, a);
    if (since > last && this.#config.refreshLogBounds && state.boundsRefresh === "none") {
      // The revision may come from a replica that has read further: ask the log before refusing it.
      state.boundsRefresh = "running";
      this.#config
        .refreshLogBounds()
        .then(
          (bounds) => {
            if (!this.#shutdownError) this.setLogBounds(bounds);
          },
          (err: unknown) => this.#logger?.warn({ err: String(err) }, "cannot refresh event-log bounds"),
        )
        .finally(() => {
          state.boundsRefresh = "done";
          this.#serve(state);
        });
      return;
    }
    if (since < this.#oldest || since > last) {
      const message =
        since < this.#oldest
          ? `revision ${since} is older than the oldest resumable revision ${this.#oldest}; re-open the watch without a revision`
          : `revision ${since} is newer than the event log's last sequence ${last}; the log may have been reset`;
      this.#fail(
        state,
        new MultiwatcherError("RevisionOutOfRange", message, { oldestRevision: this.#oldest }),
      );
      return;
    }
    // A replica behind the client waits until it has applied the revision (spec §2.4).
    if (since > a) return;
    const deltas = this.#store.resume(state.scope, since, state);
    this.#answer(state, { revision: a, snapshot: false, bookmark: false, deltas }, "resume");
  }

  #bookmark(state: WatcherState): void {
    state.bookmarkTimer = undefined;
    if (!state.pending || state.status !== "open" || !this.serving || this.#shutdownError) return;
    this.#answer(
      state,
      { revision: this.#revision, snapshot: false, bookmark: true, deltas: [] },
      "bookmark",
    );
  }

  #answer(state: WatcherState, result: WatchResult, type: ResultType): void {
    const pending = state.pending!;
    state.pending = undefined;
    state.position = result.revision;
    state.bookmarkTimer?.cancel();
    state.bookmarkTimer = undefined;
    this.#waiting.delete(state);
    this.#results[type]++;
    pending.resolve(result);
  }

  /** Gives the watcher its one error (spec §5.5): now if a call is outstanding, otherwise at its next call. */
  #fail(state: WatcherState, error: MultiwatcherError): void {
    if (state.status !== "open") return;
    const pending = state.pending;
    this.#detach(state);
    if (pending) {
      state.status = "finished";
      pending.reject(error);
    } else {
      state.status = "failed";
      state.error = error;
    }
  }

  /** Takes the watcher out of every set: not a viewer, not waiting, not counted. */
  #detach(state: WatcherState): void {
    state.pending = undefined;
    state.bookmarkTimer?.cancel();
    state.bookmarkTimer = undefined;
    this.#waiting.delete(state);
    this.#open.delete(state);
    this.#store.release(state);
  }

  #wakeWaiting(): void {
    for (const state of [...this.#waiting]) this.#serve(state);
  }

  #scheduleExpiry(): void {
    if (this.#expiryTimer || this.#shutdownError) return;
    const oldest = this.#store.oldestRemovalTime();
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest + this.#retentionMs - this.#clock.now());
    this.#expiryTimer = this.#clock.setTimer(delay, () => {
      this.#expiryTimer = undefined;
      this.#expire();
    });
  }

  #expire(): void {
    const viewers = this.#store.expire(this.#clock.now() - this.#retentionMs);
    for (const viewer of viewers) {
      const state = viewer as WatcherState;
      this.#expired++;
      this.#fail(
        state,
        new MultiwatcherError(
          "WatcherExpired",
          "watcher expired: it had not been told of removals for longer than the retention period; re-open since its last revision",
        ),
      );
    }
    this.#scheduleExpiry();
  }

  #badEvent(seq: number, reason: string): void {
    this.#badEvents++;
    this.#logger?.error({ sequence: seq, reason }, "skipping an event that cannot be applied");
  }
}
