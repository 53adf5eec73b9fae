import { MultiwatcherError } from "./errors";
import type { Scope, WatchResult } from "./types";

/** What a `Watcher` handle delegates to: the multiwatcher that owns it. */
export interface WatcherOwner {
  next(watcher: Watcher): Promise<WatchResult>;
  stop(watcher: Watcher): void;
}

/**
 * One open watch (spec §5.1). Pull-based: each `next()` computes one result when it is asked for, so a gRPC
 * handler writes one message per call and asks again only when the transport can take more (spec §5.6).
 * Iterating with `for await` yields results until the watcher is stopped (the loop then ends quietly) or fails
 * (the loop throws the error); leaving the loop early stops the watcher.
 */
export class Watcher implements AsyncIterable<WatchResult> {
  readonly #owner: WatcherOwner;

  constructor(
    /** A replica-local id, for logs. */
    readonly id: number,
    readonly scope: Scope,
    readonly sinceRevision: number | undefined,
    owner: WatcherOwner,
  ) {
    this.#owner = owner;
  }

  /** The next result; fails with a `MultiwatcherError` (spec §9.1). One call at a time. */
  next(): Promise<WatchResult> {
    return this.#owner.next(this);
  }

  /** Stops the watcher: always succeeds, is idempotent and does not wait (spec §5.4). */
  stop(): void {
    this.#owner.stop(this);
  }

  /** Yields every result until the watcher is stopped; stops it when the loop is left. */
  async *[Symbol.asyncIterator](): AsyncIterator<WatchResult> {
    try {
      for (;;) {
        try {
          yield await this.next();
        } catch (err) {
          if (err instanceof MultiwatcherError && err.kind === "WatcherStopped") return;
          throw err;
        }
      }
    } finally {
      this.stop();
    }
  }
}
