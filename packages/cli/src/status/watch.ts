import { type Client, Code, ConcordError } from "@concord/grpc";
import type { MultiwatcherService, WatchResult } from "@concord/proto/multiwatcher/v1/multiwatcher";
import type { ModelCache } from "./model-cache";

/** How {@link followModel} reconnects. */
export interface FollowOptions {
  signal: AbortSignal;
  /** Called before each reconnection attempt, with the failure and the wait before it. */
  onRetry?: (err: ConcordError, delayMs: number) => void;
  /** The wait before reconnection attempt `n` (0-based); default 250 ms doubling up to 5 s. */
  backoff?: (attempt: number) => number;
}

// Failures after which the same watch may be resumed (multiwatcher spec §9.1, §11.8).
const RESUMABLE = new Set<number>([
  Code.UNAVAILABLE,
  Code.ABORTED,
  Code.CANCELLED,
  Code.DEADLINE_EXCEEDED,
  Code.UNKNOWN,
]);

/**
 * Follows one model's WatchModel stream into `cache`, yielding after every applied result. A dropped stream is
 * re-opened since the last revision (after a backoff); OUT_OF_RANGE re-opens without one, so the next result is
 * a fresh snapshot. The first open is not retried: a controller that cannot be reached at all is the user's error
 * to see. Ends when `signal` aborts.
 */
export async function* followModel(
  client: Client<typeof MultiwatcherService>,
  modelUuid: string,
  cache: ModelCache,
  options: FollowOptions,
): AsyncGenerator<WatchResult> {
  const { signal } = options;
  const backoff = options.backoff ?? ((n: number) => Math.min(250 * 2 ** n, 5000));
  let opened = false;
  let attempt = 0;
  while (!signal.aborted) {
    const from =
      cache.revision === undefined ? undefined : { sinceRevision: cache.revision, logId: cache.logId };
    try {
      for await (const msg of client.watchModel({ modelUuid, from }, { signal })) {
        if (!msg.result) continue;
        opened = true;
        attempt = 0;
        cache.apply(msg.result);
        yield msg.result;
      }
      if (signal.aborted) return;
      throw new ConcordError(Code.UNAVAILABLE, "StreamEnded", "the watch stream ended");
    } catch (err) {
      if (signal.aborted) return;
      const e = ConcordError.from(err);
      if (e.code === Code.OUT_OF_RANGE) {
        // The revision is no longer resumable (or the log was reset): start again from a snapshot.
        cache.revision = undefined;
        cache.logId = "";
        continue;
      }
      if (!opened || !RESUMABLE.has(e.code)) throw e;
      const delay = backoff(attempt++);
      options.onRetry?.(e, delay);
      await wait(delay, signal);
    }
  }
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}

/** The first result of a fresh watch: the model's snapshot (then the stream is closed). */
export async function snapshot(
  client: Client<typeof MultiwatcherService>,
  modelUuid: string,
  cache: ModelCache,
): Promise<void> {
  const ac = new AbortController();
  try {
    for await (const msg of client.watchModel({ modelUuid }, { signal: ac.signal })) {
      if (!msg.result) continue;
      cache.apply(msg.result);
      return;
    }
    throw new ConcordError(Code.UNAVAILABLE, "StreamEnded", "the watch stream ended before its snapshot");
  } finally {
    ac.abort();
  }
}
