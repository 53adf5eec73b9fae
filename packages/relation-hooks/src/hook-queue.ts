import type { HookInfo, HookSource, RelationUnitsChange } from "./types";

interface Waiter {
  resolve(hook: HookInfo | undefined): void;
  reject(err: unknown): void;
}

/**
 * Delivers the hooks of one relation from a HookSource to a single consumer, one at a time (Juju's
 * hooksender). A hook is popped from the source only when the consumer asks for it, so the consumer must
 * validate, run and commit each hook before asking for the next one. Change events may arrive at any time.
 *
 * Use it as an async iterator (`for await (const hook of queue)`), with `run(handler)`, or with `next()`.
 */
export class HookQueue implements AsyncIterable<HookInfo> {
  #source: HookSource;
  #waiter: Waiter | undefined;
  #closed = false;
  #error: unknown;

  /** Delivers from `source` (usually a LiveHookSource, possibly wrapped by RelationCreatedSource). */
  constructor(source: HookSource) {
    this.#source = source;
  }

  /** The source hooks are taken from now. */
  get source(): HookSource {
    return this.#source;
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Switches to another source, e.g. a DyingHookSource built from the committed state. */
  setSource(source: HookSource): void {
    this.#source = source;
    this.#deliver();
  }

  /** Re-checks the source after something other than an event made a hook ready (e.g. a created mark). */
  refresh(): void {
    this.#deliver();
  }

  /** Feeds one change event to the current source; a bad event throws and queues nothing. */
  update(change: RelationUnitsChange): void {
    if (this.#closed) return;
    this.#source.update(change);
    this.#deliver();
  }

  /**
   * Feeds every event of `changes` (e.g. a gRPC stream). If the stream or an event fails, the queue is
   * closed with that error, which the consumer then receives. Resolves when the stream ends or the queue
   * is closed; the queue stays open when the stream simply ends.
   */
  async feed(changes: AsyncIterable<RelationUnitsChange>): Promise<void> {
    try {
      for await (const change of changes) {
        if (this.#closed) return;
        this.update(change);
      }
    } catch (err) {
      this.close(err);
    }
  }

  /** Stops delivery: a waiting or later `next()` resolves to undefined, or rejects with `error` if given. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) return;
    if (error === undefined) waiter.resolve(undefined);
    else waiter.reject(error);
  }

  /** Waits for the next hook and takes it; undefined once closed. Only one call may wait at a time. */
  next(): Promise<HookInfo | undefined> {
    if (this.#closed)
      return this.#error === undefined ? Promise.resolve(undefined) : Promise.reject(this.#error);
    if (this.#waiter !== undefined)
      return Promise.reject(new Error("HookQueue.next: a call is already waiting"));
    if (!this.#source.empty()) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Passes every hook to `handler` (which runs and commits it) until the queue is closed. */
  async run(handler: (hook: HookInfo) => Promise<void>): Promise<void> {
    for await (const hook of this) await handler(hook);
  }

  /** Iterates hooks until the queue is closed; ending the loop early does not close the queue. */
  async *[Symbol.asyncIterator](): AsyncIterator<HookInfo> {
    for (;;) {
      const hook = await this.next();
      if (hook === undefined) return;
      yield hook;
    }
  }

  #take(): HookInfo {
    const hook = this.#source.next();
    this.#source.pop();
    return hook;
  }

  #deliver(): void {
    if (this.#waiter === undefined || this.#source.empty()) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter.resolve(this.#take());
  }
}
