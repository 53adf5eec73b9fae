// Helpers shared by the service's tests: the feed served over gRPC, appending change events to a real event log,
// and reading watch streams.
import { create, toBinary } from "@bufbuild/protobuf";
import { type EventLog, subjectFor } from "@concord/events";
import {
  ApplicationInfoSchema,
  type ChangeEvent,
  ChangeEventSchema,
  type Entity,
  EntitySchema,
} from "@concord/proto/events/v1/events";
import type { WatchResult } from "@concord/proto/multiwatcher/v1/multiwatcher";
import { serveForTest, type TestServing } from "@concord/runtime/testing";
import { type Feed, type FeedOptions, startFeed } from "./feed";
import { registerMetrics } from "./metrics";
import { MultiwatcherService, multiwatcherHandlers } from "./server";

export * from "./domain/testing";

/** A feed served on a local port as the module serves it, but over the test's log and clock. */
export interface TestService extends TestServing {
  feed: Feed;
  /** Stops the feed (open streams end with UNAVAILABLE), closes the clients and the server; the log is the test's. */
  stop(): Promise<void>;
}

/** Starts a feed of `options.log` with the module's metrics and serves MultiwatcherService over it. */
export async function startTestService(options: Omit<FeedOptions, "observe">): Promise<TestService> {
  let feed: Feed | undefined;
  const serving = await serveForTest({ name: "multiwatcher" }, ({ server, metrics }) => {
    const hooks = registerMetrics(metrics.registry, () => feed?.multiwatcher.metrics());
    feed = startFeed({ ...options, observe: hooks });
    server.add(MultiwatcherService, multiwatcherHandlers(feed));
  });
  const started = feed!;
  return {
    ...serving,
    feed: started,
    async stop() {
      await started.stop();
      await serving.close();
    },
  };
}

/** An application entity. */
export function application(modelUUID: string, name: string): Entity {
  return create(EntitySchema, {
    kind: { case: "application", value: create(ApplicationInfoSchema, { modelUuid: modelUUID, name }) },
  });
}

/** Appends events to the log as one commit (several events share a commit id); returns the last sequence. */
export async function publish(log: EventLog, ...events: ChangeEvent[]): Promise<number> {
  const commitId = events.length > 1 ? `commit-${Math.random().toString(36).slice(2)}` : "";
  let seq = 0;
  for (const [i, e] of events.entries()) {
    const event = create(ChangeEventSchema, {
      ...e,
      commitId,
      commitIndex: i,
      commitSize: events.length,
      source: "test",
    });
    seq = (await log.append(subjectFor(event), toBinary(ChangeEventSchema, event))).seq;
  }
  return seq;
}

/** A stream's results, read one at a time. */
export interface ResultReader {
  next(): Promise<WatchResult>;
  /** Cancels the call. */
  cancel(): void;
}

/** Reads `{result}` messages of a watch stream; `next()` fails with the stream's error. */
export function reader(stream: AsyncIterable<{ result?: WatchResult }>, ac: AbortController): ResultReader {
  const it = stream[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (!r.value.result) throw new Error("message without a result");
      return r.value.result;
    },
    cancel: () => ac.abort(),
  };
}

/** `unit/0` style names of a result's deltas, "-" prefixed for removals. */
export function deltaNames(result: WatchResult): string[] {
  return result.deltas.map((d) => {
    const k = d.entity?.kind;
    const id = k?.case === "unit" ? k.value.name : k?.case === "application" ? k.value.name : String(k?.case);
    return `${d.removed ? "-" : ""}${id}`;
  });
}

/** Resolves once the multiwatcher has applied `seq` (it answers watchers as it applies, so this is a sync point). */
export async function untilApplied(mw: { revision: number }, seq: number): Promise<void> {
  while (mw.revision < seq) await new Promise((resolve) => setImmediate(resolve));
}
