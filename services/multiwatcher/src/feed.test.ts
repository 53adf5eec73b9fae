import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type EventLog,
  EventLogError,
  isEventLogError,
  type LogMessage,
  openEmbeddedLog,
  openNatsLog,
  type Subscription,
  startNatsServer,
  testStreamName,
} from "@concord/events";
import { ManualClock, MultiwatcherError } from "./domain";
import { startFeed } from "./feed";
import { names, publish, removeUnit, unit, untilApplied, upsert, uuid0 } from "./testing";

/** Appends, retrying while the log is unavailable (NATS restarting). */
async function publishRetrying(log: EventLog, ...events: Parameters<typeof publish>[1][]): Promise<number> {
  for (;;) {
    try {
      return await publish(log, ...events);
    } catch (err) {
      if (!isEventLogError(err, "EventLogUnavailable")) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function rejection(p: Promise<unknown>): Promise<MultiwatcherError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MultiwatcherError, String(err));
    return err;
  }
  assert.fail("expected the call to fail");
}

/**
 * An event log whose retained history can be cut at will: `compact(first)` makes messages below `first` vanish,
 * and an open subscription fails with OutOfRange, as a JetStream consumer does when its next message is gone.
 */
class CompactingLog implements EventLog {
  #first = 0;
  #trip: (() => void) | undefined;
  constructor(readonly inner: EventLog) {}
  compact(first: number): void {
    this.#first = first;
    this.#trip?.();
  }
  append: EventLog["append"] = (...args) => this.inner.append(...args);
  read: EventLog["read"] = (...args) => this.inner.read(...args);
  lastPerSubject: EventLog["lastPerSubject"] = (...args) => this.inner.lastPerSubject(...args);
  close: EventLog["close"] = () => this.inner.close();
  async info() {
    const info = await this.inner.info();
    return { ...info, firstSeq: Math.max(info.firstSeq, this.#first) };
  }
  subscribe(fromSeq: number): Subscription {
    const inner = this.inner.subscribe(fromSeq);
    const self = this;
    return {
      stop: () => inner.stop(),
      async *[Symbol.asyncIterator](): AsyncIterator<LogMessage> {
        const it = inner[Symbol.asyncIterator]();
        const tripped = new Promise<"trip">((resolve) => (self.#trip = () => resolve("trip")));
        for (;;) {
          const r = await Promise.race([it.next(), tripped]);
          if (r === "trip") {
            await inner.stop();
            throw new EventLogError("OutOfRange", "messages are no longer in the log", {
              firstSeq: self.#first,
            });
          }
          if (r.done) return;
          if (r.value.seq >= self.#first) yield r.value;
        }
      },
    };
  }
}

describe("event feed", () => {
  test("a NATS restart is resumed: the open watcher misses nothing and sees no error", async () => {
    const nats = await startNatsServer();
    const log = await openNatsLog({ url: nats.url, stream: testStreamName() });
    const feed = startFeed({ log, clock: new ManualClock() });
    try {
      await untilApplied(feed.multiwatcher, await publish(log, upsert(unit(uuid0, "a/0"))));
      const w = feed.multiwatcher.watchModel(uuid0);
      assert.deepEqual(names((await w.next()).deltas), ["a/0"]);
      const pending = w.next();
      await nats.restart();
      const seq = await publishRetrying(log, upsert(unit(uuid0, "a/1")));
      const result = await pending;
      assert.deepEqual(names(result.deltas), ["a/1"]);
      assert.equal(result.revision, seq);
      const report = feed.multiwatcher.report();
      assert.equal(report["restart-count"], 0);
      assert.ok(report["resume-count"] >= 1, `resume-count ${report["resume-count"]}`);
      assert.equal(report["num-watchers"], 1);
    } finally {
      await feed.stop();
      await log.close();
      await nats.stop();
    }
  });

  test("history lost under the consumer fails every watcher once and rebuilds from the log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "concord-mw-feed-"));
    const log = new CompactingLog(await openEmbeddedLog({ dir }));
    const feed = startFeed({ log, clock: new ManualClock() });
    try {
      await publish(log, upsert(unit(uuid0, "a/0")));
      await untilApplied(feed.multiwatcher, await publish(log, upsert(unit(uuid0, "a/1"))));
      const w = feed.multiwatcher.watchModel(uuid0);
      await w.next();
      await publish(log, removeUnit(uuid0, "a/0"));
      const seq = await publish(log, upsert(unit(uuid0, "a/2")));
      await untilApplied(feed.multiwatcher, seq);
      assert.deepEqual(names((await w.next()).deltas), ["-a/0", "a/2"]);
      const failing = w.next();
      log.compact(seq);
      const err = await rejection(failing);
      assert.equal(err.kind, "BackingFailed");
      assert.equal(err.code, "UNAVAILABLE");
      assert.equal((await rejection(w.next())).kind, "WatcherStopped");
      // The rebuilt store holds what the retained log says; older revisions are out of range.
      const fresh = await feed.multiwatcher.watchModel(uuid0).next();
      assert.equal(fresh.snapshot, true);
      assert.deepEqual(names(fresh.deltas), ["a/2"]);
      const old = await rejection(feed.multiwatcher.watchModel(uuid0, { sinceRevision: 1 }).next());
      assert.equal(old.code, "OUT_OF_RANGE");
      assert.equal(old.oldestRevision, seq - 1);
      const report = feed.multiwatcher.report();
      assert.equal(report["restart-count"], 1);
      assert.equal(report["oldest-revision"], seq - 1);
      assert.deepEqual(report.errors, ["messages are no longer in the log"]);
    } finally {
      await feed.stop();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("watchers wait for the replay of a long log and then see all of it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "concord-mw-feed-"));
    const log = await openEmbeddedLog({ dir });
    try {
      for (let i = 0; i < 1500; i++) await publish(log, upsert(unit(uuid0, `a/${i % 500}`, `s${i}`)));
      const feed = startFeed({ log, clock: new ManualClock(), queueHighWater: 100 });
      const first = await feed.multiwatcher.watchModel(uuid0).next();
      assert.equal(first.revision, 1500);
      assert.equal(first.deltas.length, 500);
      const resumed = await feed.multiwatcher.watchModel(uuid0, { sinceRevision: 1490 }).next();
      assert.equal(resumed.deltas.length, 10);
      await feed.stop();
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
