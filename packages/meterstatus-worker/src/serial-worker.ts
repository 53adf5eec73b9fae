import type { Worker } from "./types";

/**
 * Base of both workers: runs tasks one at a time, dies on the first task error, and stops once killed
 * and drained. A task already running when the worker is killed runs to its end (it sees `signal` aborted).
 */
export abstract class SerialWorker implements Worker {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private dying = false;
  private finished = false;
  private fatal: Error | undefined;
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  private finish!: () => void;

  constructor() {
    this.done = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
  }

  /** Aborted once the worker is killed; passed to hook runs so a pending lock wait is cancelled. */
  protected get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Whether the worker has been asked to stop (or died). */
  protected get isDying(): boolean {
    return this.dying;
  }

  /** Called once when the worker is killed, before draining: cancel timers, stop watchers. */
  protected abstract onKill(): void;

  /** Queues a task behind every earlier one; skipped once the worker is dying. */
  protected enqueue(task: () => Promise<void>): void {
    this.pending++;
    this.tail = this.tail
      .then(async () => {
        if (!this.dying) await task();
      })
      .catch((err: unknown) => this.die(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.pending--;
        if (this.pending === 0) this.drained();
      });
  }

  /** Kills the worker with `err` as the reason `wait` rejects with. */
  protected die(err: Error): void {
    this.fatal ??= err;
    this.kill();
  }

  /** Resolves once no task is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  kill(): void {
    if (this.dying) return;
    this.dying = true;
    this.abort.abort();
    this.onKill();
    if (this.pending === 0) this.drained();
  }

  async wait(): Promise<void> {
    await this.done;
    if (this.fatal) throw this.fatal;
  }

  async stop(): Promise<void> {
    this.kill();
    await this.wait();
  }

  get fatalError(): Error | undefined {
    return this.fatal;
  }

  private drained(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
    if (this.dying && !this.finished) {
      this.finished = true;
      this.finish();
    }
  }
}
