import { fromBinary } from "@bufbuild/protobuf";
import { type EventLog, isEventLogError, type LogMessage, type Subscription } from "@concord/events";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import type { Clock, LogBounds, Logger, QueueStats } from "./domain";
import { Multiwatcher } from "./domain";

/** Configuration of {@link startFeed}. */
export interface FeedOptions {
  log: EventLog;
  clock: Clock;
  logger?: Logger & { info(obj: object, msg: string): void };
  /** Spec §11.7; default 5 minutes. */
  removedRetentionMs?: number;
  /** Spec §11.6; default 30 seconds. */
  bookmarkIntervalMs?: number;
  /** How often the log's retained range is re-read (default 30 s), so every replica refuses the same revisions. */
  boundsRefreshMs?: number;
  /** Events held in the queue before the reader waits for the processing loop (default 10,000). */
  queueHighWater?: number;
  /** Hooks for the metrics of spec §10.2 and Juju's collector. */
  observe?: {
    /** Time from the log storing an event to the feed queueing it (Juju's `append`). */
    append?(seconds: number): void;
    /** Time to apply one event that completed a commit (Juju's `process`). */
    apply?(seconds: number): void;
    /** An event redelivered at or below the applied revision and ignored (Juju's `dupe`). */
    duplicate?(): void;
  };
}

/** A multiwatcher fed from the event log (spec §6): what the gRPC server and the module use. */
export interface Feed {
  readonly multiwatcher: Multiwatcher;
  /** Resolves once the first rebuild has caught up with the log (watchers are then answered at once). */
  readonly ready: Promise<void>;
  /** Identity of the event log the revisions belong to (spec §11.1); empty before the first rebuild. */
  logId(): string;
  /** Re-reads the log's retained range now (it is also re-read every `boundsRefreshMs`). */
  refreshBounds(): Promise<void>;
  /** Stops consuming and shuts the multiwatcher down (open watches end with "shared state watcher was stopped"). */
  stop(): Promise<void>;
}

interface Queued {
  message: LogMessage;
  queuedAt: number;
}

/** Longest slice of the event loop the processing loop takes before letting I/O run. */
const sliceMs = 20;
const maxBackoffMs = 30_000;

/**
 * Starts a multiwatcher replica on the event log (spec §2.3, §6).
 *
 * The store is rebuilt by replaying the log from its first retained event through the domain, with no snapshot
 * source and no calls to other services: the state is then exactly what the log says, and the domain's history
 * of creations and removals covers every revision a client may resume from (the oldest resumable revision is
 * the log's first sequence minus one). Watchers wait until the replay reaches the log's last sequence as read at
 * the start of the rebuild.
 *
 * A reader copies the subscription into a FIFO queue; a processing loop applies it (spec §6.3), in slices of at
 * most 20 ms so that the gRPC server keeps writing. A lost connection is resumed by the subscription itself at
 * the next sequence (counted as a resumable failure); a subscription that cannot resume (history gone, log reset)
 * is a non-resumable failure: every watcher gets the error once and the store is rebuilt from the log.
 */
export function startFeed(options: FeedOptions): Feed {
  const clock = options.clock;
  const logger = options.logger;
  const queue: Queued[] = [];
  let head = 0;
  const queueStats = (): QueueStats => {
    const size = queue.length - head;
    const oldest = queue[head];
    return { size, ageSeconds: oldest ? Math.max(0, clock.now() - oldest.queuedAt) / 1000 : 0 };
  };
  const bounds = async (): Promise<LogBounds> => {
    const info = await options.log.info();
    return { oldestRevision: info.firstSeq - 1, lastSequence: info.lastSeq };
  };
  const mw = new Multiwatcher({
    clock,
    ...(logger ? { logger } : {}),
    ...(options.removedRetentionMs === undefined ? {} : { removedRetentionMs: options.removedRetentionMs }),
    ...(options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs }),
    refreshLogBounds: bounds,
    queueStats,
    ...(options.observe?.apply ? { onApply: options.observe.apply } : {}),
  });

  let stopped = false;
  let logId = "";
  let subscription: Subscription | undefined;
  let processing: ReturnType<typeof setImmediate> | undefined;
  let drained: (() => void) | undefined;
  let wakeBackoff: (() => void) | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const highWater = options.queueHighWater ?? 10_000;
  let rebuilding: { startedAt: number; events: number } | undefined;
  const caughtUp = () => {
    if (rebuilding) {
      const seconds = (performance.now() - rebuilding.startedAt) / 1000;
      logger?.info(
        { events: rebuilding.events, seconds, revision: mw.revision },
        "store rebuilt from the event log",
      );
      rebuilding = undefined;
    }
    markReady();
  };

  const clearQueue = () => {
    queue.length = 0;
    head = 0;
  };

  const processQueue = () => {
    processing = undefined;
    const until = performance.now() + sliceMs;
    while (head < queue.length && !stopped) {
      const { message } = queue[head]!;
      queue[head++] = undefined as unknown as Queued;
      apply(message);
      if (performance.now() >= until) break;
    }
    if (head === queue.length) clearQueue();
    else if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
    if (mw.serving) caughtUp();
    if (head < queue.length) processing ??= setImmediate(processQueue);
    if (queue.length - head < highWater / 2) {
      const wake = drained;
      drained = undefined;
      wake?.();
    }
  };

  const apply = (message: LogMessage) => {
    let event: ReturnType<typeof fromBinary<typeof ChangeEventSchema>>;
    try {
      event = fromBinary(ChangeEventSchema, message.data);
    } catch (err) {
      mw.skipEvent(message.seq, `cannot decode the event on ${message.subject}: ${(err as Error).message}`);
      return;
    }
    if (mw.applyEvent(message.seq, event) === "duplicate") options.observe?.duplicate?.();
  };

  const enqueue = async (message: LogMessage) => {
    const now = clock.now();
    options.observe?.append?.(Math.max(0, Date.now() - message.time.getTime()) / 1000);
    queue.push({ message, queuedAt: now });
    processing ??= setImmediate(processQueue);
    if (queue.length - head >= highWater) await new Promise<void>((resolve) => (drained = resolve));
  };

  /** Rebuilds the store from the log's first retained event; returns the sequence to consume from. */
  const rebuild = async (): Promise<number> => {
    const info = await options.log.info();
    logId = info.logId;
    const oldest = info.firstSeq - 1;
    mw.setLogBounds({ oldestRevision: oldest, lastSequence: info.lastSeq });
    mw.load({ revision: oldest, entities: [] }, { catchUpTo: info.lastSeq });
    logger?.info({ from: info.firstSeq, to: info.lastSeq, logId }, "rebuilding the store from the event log");
    rebuilding = { startedAt: performance.now(), events: info.lastSeq - oldest };
    if (mw.serving) caughtUp();
    return info.firstSeq;
  };

  const consume = async (from: number) => {
    // One outage is one resumable failure, however many reconnection attempts the subscription makes.
    let interrupted = false;
    const sub = options.log.subscribe(from, {
      onInterrupted: (err) => {
        if (stopped || interrupted) return;
        interrupted = true;
        mw.backingFailed(err, { resumable: true });
      },
    });
    subscription = sub;
    try {
      for await (const message of sub) {
        if (stopped) return;
        interrupted = false;
        await enqueue(message);
      }
    } finally {
      subscription = undefined;
    }
  };

  // Real time, not the injected clock: this waits for NATS, not for anything a test steps through.
  const backoff = (attempt: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(100 * 2 ** attempt, maxBackoffMs));
      wakeBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async () => {
    let attempt = 0;
    let from: number | undefined;
    while (!stopped) {
      try {
        if (!mw.loaded) from = await rebuild();
        await consume(from ?? mw.nextSequence);
        if (stopped) return;
        throw new Error("event subscription ended");
      } catch (err) {
        if (stopped) return;
        if (isEventLogError(err, "OutOfRange") && mw.loaded) {
          // History this replica still needs is gone, or the log was reset: Juju's restart (spec §6.4).
          mw.backingFailed(err, { resumable: false });
          clearQueue();
          from = undefined;
          attempt = 0;
          continue;
        }
        if (mw.loaded) {
          // Processing keeps the applied revision; the next subscription starts right after it.
          mw.backingFailed(err, { resumable: true });
          await drainQueue();
          from = undefined;
        } else {
          logger?.warn({ err: String(err) }, "cannot read the event log; retrying");
        }
        await backoff(attempt++);
      }
    }
  };

  /** Waits until the processing loop has applied everything queued. */
  const drainQueue = async () => {
    while (head < queue.length && !stopped) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  const refreshTimer = setInterval(() => {
    if (!mw.loaded || stopped) return;
    bounds().then(
      (b) => {
        if (!stopped && mw.loaded) mw.setLogBounds(b);
      },
      () => {},
    );
  }, options.boundsRefreshMs ?? 30_000);
  refreshTimer.unref();

  const running = run().catch((err) => logger?.error({ err: String(err) }, "event feed failed"));

  return {
    multiwatcher: mw,
    ready,
    logId: () => logId,
    async refreshBounds() {
      const b = await bounds();
      if (!stopped && mw.loaded) mw.setLogBounds(b);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(refreshTimer);
      if (processing) clearImmediate(processing);
      drained?.();
      wakeBackoff?.();
      mw.shutdown();
      await subscription?.stop();
      await running;
    },
  };
}
