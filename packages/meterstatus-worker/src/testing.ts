// Test doubles for the meter-status worker, exported as `@concord/meterstatus-worker/testing`.
import type { HookRunner, Logger, MeterStatus, MeterStatusClient, NotifyWatcher } from "./types";

/**
 * A notify watcher fed by hand. It starts with one pending event (the initial event). `drained()` tells
 * when the consumer has handled every event: it is back waiting in `next()`, or it closed the watcher.
 */
export class FakeNotifyWatcher implements AsyncIterableIterator<void> {
  private queued = 1;
  private waiting: ((r: IteratorResult<void>) => void) | undefined;
  private closed = false;
  private drainWaiters: Array<() => void> = [];

  /** Whether the consumer stopped the watcher. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Delivers one more event (ignored once closed). */
  notify(): void {
    if (this.closed) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w({ done: false, value: undefined });
    } else {
      this.queued++;
    }
  }

  /** Resolves once every event delivered so far has been handled. */
  drained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  next(): Promise<IteratorResult<void>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.queued > 0) {
      this.queued--;
      return Promise.resolve({ done: false, value: undefined });
    }
    const p = new Promise<IteratorResult<void>>((resolve) => {
      this.waiting = resolve;
    });
    this.checkDrained();
    return p;
  }

  return(): Promise<IteratorResult<void>> {
    this.stop();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Closes the watcher; a pending `next()` ends. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ done: true, value: undefined });
    this.checkDrained();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<void> {
    return this;
  }

  private isDrained(): boolean {
    return this.closed || (this.queued === 0 && this.waiting !== undefined);
  }

  private checkDrained(): void {
    if (!this.isDrained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

/** An in-memory controller: the agent-facing status, the saved worker state, and hand-fed watchers. */
export class FakeMeterStatusClient implements MeterStatusClient {
  /** What `getMeterStatus` returns. */
  status: MeterStatus;
  /** The saved worker state YAML; "" = none. */
  workerState: string;
  /** Number of `setWorkerState` calls so far. */
  writes = 0;
  /** When set, `getMeterStatus` rejects with it. */
  getError: Error | undefined;
  /** When set, `setWorkerState` rejects with it. */
  setError: Error | undefined;
  /** Every watcher handed out, newest last. */
  readonly watchers: FakeNotifyWatcher[] = [];

  constructor(status: MeterStatus, workerState = "") {
    this.status = { ...status };
    this.workerState = workerState;
  }

  async getMeterStatus(): Promise<MeterStatus> {
    if (this.getError) throw this.getError;
    return { ...this.status };
  }

  watchMeterStatus(): NotifyWatcher {
    const w = new FakeNotifyWatcher();
    this.watchers.push(w);
    return w;
  }

  async getWorkerState(): Promise<string> {
    return this.workerState;
  }

  async setWorkerState(_unit: string, yaml: string): Promise<void> {
    if (this.setError) throw this.setError;
    this.writes++;
    this.workerState = yaml;
  }

  /** Changes the status and fires one event on every open watcher. */
  setStatus(code: string, info: string): void {
    this.status = { code, info };
    for (const w of this.watchers) w.notify();
  }

  /** Resolves once every open watcher's events have been handled. */
  async drained(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.drained()));
  }
}

/** Records every hook run as {code, info}, then delegates to `inner` when given. */
export class RecordingRunner implements HookRunner {
  readonly runs: Array<{ code: string; info: string }> = [];

  constructor(private readonly inner?: HookRunner) {}

  async run(code: string, info: string, signal: AbortSignal): Promise<void> {
    this.runs.push({ code, info });
    await this.inner?.run(code, info, signal);
  }
}

/** A logger keeping every line as `<level> <message>`. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  debug(msg: string): void {
    this.lines.push(`debug ${msg}`);
  }
  info(msg: string): void {
    this.lines.push(`info ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`warn ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`error ${msg}`);
  }
}
