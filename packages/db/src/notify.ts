// Watchers on any replica learn of committed changes through Postgres LISTEN/NOTIFY: writers pg_notify a channel
// in the writing transaction (delivered on commit); a watcher then re-reads what it watches.
import type { Sql } from "./types";

interface Channel {
  listeners: Set<(payload: string) => void>;
  ready: Promise<{ unlisten(): Promise<void> }>;
}

/** One LISTEN per channel per process, shared by every watcher of that channel. */
export class ChannelNotifier {
  readonly #channels = new Map<string, Channel>();
  constructor(private readonly sql: Sql) {}

  /**
   * Calls `onNotify(payload)` after every notification on the channel until the returned function is called.
   * Resolves once the LISTEN is in place, so a read made after it cannot miss a later change.
   */
  async subscribe(name: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let channel = this.#channels.get(name);
    if (!channel) {
      const listeners = new Set<(payload: string) => void>();
      const ready = this.sql.listen(name, (payload) => {
        for (const l of listeners) l(payload);
      });
      channel = { listeners, ready };
      this.#channels.set(name, channel);
    }
    const ch = channel;
    ch.listeners.add(onNotify);
    try {
      await ch.ready;
    } catch (err) {
      ch.listeners.delete(onNotify);
      if (this.#channels.get(name) === ch) this.#channels.delete(name);
      throw err;
    }
    return async () => {
      ch.listeners.delete(onNotify);
      if (ch.listeners.size === 0 && this.#channels.get(name) === ch) {
        this.#channels.delete(name);
        await (await ch.ready).unlisten();
      }
    };
  }

  /**
   * A watcher's loop: yields at once, then again after every notification on the channel that `accept` takes,
   * until the signal aborts. Listening starts before the first step, so a read made in any step misses no later
   * change; notifications that arrive while a step runs collapse into one more step.
   */
  async *changes(
    name: string,
    signal: AbortSignal,
    accept: (payload: string) => boolean = () => true,
  ): AsyncGenerator<void> {
    const wakeup = new Wakeup();
    const unsubscribe = await this.subscribe(name, (payload) => {
      if (accept(payload)) wakeup.wake();
    });
    try {
      do yield;
      while (await wakeup.wait(signal));
    } finally {
      await unsubscribe();
    }
  }
}

/** Wakes a loop on demand: `wait()` resolves once `wake()` was called since the previous `wait()`. */
class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake = (): void => {
    this.#pending = true;
    this.#resolve?.();
  };

  /** Resolves true when woken, false once the signal aborts. */
  async wait(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (!this.#pending) {
      const onAbort = () => this.#resolve?.();
      signal.addEventListener("abort", onAbort, { once: true });
      await new Promise<void>((resolve) => {
        this.#resolve = resolve;
      });
      signal.removeEventListener("abort", onAbort);
      this.#resolve = undefined;
    }
    if (signal.aborted) return false;
    this.#pending = false;
    return true;
  }
}
