import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ManualClock } from "@concord/clock";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import { MultiwatcherError } from "./errors";
import { Multiwatcher } from "./multiwatcher";
import { names, removeUnit, settle, track, unit, upsert, uuid0, uuid1 } from "./testing";
import type { MultiwatcherConfig } from "./types";

function setup(config: Partial<MultiwatcherConfig> = {}) {
  const clock = new ManualClock();
  const mw = new Multiwatcher({ clock, removedRetentionMs: 300_000, bookmarkIntervalMs: 30_000, ...config });
  mw.load({ revision: 0, entities: [] });
  return { clock, mw };
}

async function rejection(p: Promise<unknown>): Promise<MultiwatcherError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MultiwatcherError, `not a MultiwatcherError: ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

describe("Multiwatcher", () => {
  it("answers the first next with a marked snapshot and later ones with changes", async () => {
    const { mw } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    mw.applyEvent(2, upsert(unit(uuid1, "b/0")));
    const w = mw.watchModel(uuid0);
    const first = await w.next();
    assert.equal(first.snapshot, true);
    assert.equal(first.revision, 2);
    assert.deepEqual(names(first.deltas), ["a/0"]);
    const pending = track(w.next());
    mw.applyEvent(3, upsert(unit(uuid1, "b/0", "active")));
    await settle();
    assert.equal(pending.settled, false, "other models never wake a model watcher");
    mw.applyEvent(4, upsert(unit(uuid0, "a/0", "active")));
    await settle();
    assert.equal(pending.value?.revision, 4);
    assert.equal(pending.value?.snapshot, false);
    assert.deepEqual(names(pending.value!.deltas), ["a/0"]);
  });

  it("refuses a second outstanding next with FAILED_PRECONDITION and leaves the first alone", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    await w.next();
    const first = track(w.next());
    const err = await rejection(w.next());
    assert.equal(err.code, "FAILED_PRECONDITION");
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    await settle();
    assert.deepEqual(names(first.value!.deltas), ["a/0"]);
  });

  it("stop fails the outstanding and later calls, is idempotent and leaves num-watchers at once", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    mw.watchController();
    await w.next();
    const pending = w.next();
    w.stop();
    w.stop();
    assert.equal((await rejection(pending)).message, "watcher was stopped");
    assert.equal((await rejection(w.next())).code, "CANCELLED");
    assert.equal(mw.report()["num-watchers"], 1);
  });

  it("holds calls made before the store is loaded until the load", async () => {
    const clock = new ManualClock();
    const mw = new Multiwatcher({ clock });
    const w = mw.watchController();
    const first = track(w.next());
    await settle();
    assert.equal(first.settled, false);
    mw.load({
      revision: 9,
      entities: [{ entity: unit(uuid0, "a/0"), revision: 4 }, { entity: unit(uuid0, "a/1") }],
    });
    await settle();
    assert.equal(first.value?.revision, 9);
    assert.deepEqual(
      first.value!.deltas.map((d) => d.revision),
      [4, 9],
    );
  });

  it("holds watchers until a replay reaches its catch-up revision, then resumes exactly", async () => {
    const mw = new Multiwatcher({ clock: new ManualClock() });
    mw.setLogBounds({ oldestRevision: 0, lastSequence: 3 });
    mw.load({ revision: 0, entities: [] }, { catchUpTo: 3 });
    const snap = track(mw.watchModel(uuid0).next());
    const resumed = track(mw.watchModel(uuid0, { sinceRevision: 1 }).next());
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    mw.applyEvent(2, removeUnit(uuid0, "a/0"));
    await settle();
    assert.equal(snap.settled, false, "a half-built store is never shown");
    assert.equal(mw.serving, false);
    mw.applyEvent(3, upsert(unit(uuid0, "a/1")));
    await settle();
    assert.equal(mw.serving, true);
    assert.equal(snap.value?.revision, 3);
    assert.deepEqual(names(snap.value!.deltas), ["a/1"]);
    // The replayed history knows a/0 existed at 1 and was removed at 2, although no watcher held it.
    assert.deepEqual(names(resumed.value!.deltas), ["-a/0", "a/1"]);
  });

  it("tells whether an entity is live", () => {
    const { mw } = setup();
    const key = { kind: "unit", modelUUID: uuid0, id: "a/0" } as const;
    assert.equal(mw.isLive(key), false);
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    assert.equal(mw.isLive(key), true);
    mw.applyEvent(2, removeUnit(uuid0, "a/0"));
    assert.equal(mw.isLive(key), false);
  });

  it("sends a bookmark with the current revision after an idle interval", async () => {
    const { mw, clock } = setup();
    const w = mw.watchModel(uuid0);
    await w.next();
    const pending = track(w.next());
    mw.applyEvent(1, upsert(unit(uuid1, "b/0")));
    clock.advance(29_999);
    await settle();
    assert.equal(pending.settled, false);
    clock.advance(1);
    await settle();
    assert.deepEqual(pending.value, { revision: 1, snapshot: false, bookmark: true, deltas: [] });
    const answered = track(w.next());
    mw.applyEvent(2, upsert(unit(uuid0, "a/0")));
    await settle();
    assert.deepEqual(names(answered.value!.deltas), ["a/0"]);
    assert.equal(clock.pendingTimers(), 0, "an answered call leaves no bookmark timer");
    assert.equal(mw.metrics().resultsTotal.bookmark, 1);
  });

  it("expires a watcher that was not told of a removal within the retention period", async () => {
    const { mw, clock } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    const idle = mw.watchController();
    await idle.next();
    clock.advance(10_000);
    mw.applyEvent(2, removeUnit(uuid0, "a/0"));
    clock.advance(299_999);
    assert.equal(mw.report()["store-size"], 1);
    clock.advance(1);
    assert.equal(mw.report()["store-size"], 0);
    assert.equal(mw.report()["num-watchers"], 0);
    const err = await rejection(idle.next());
    assert.equal(err.code, "ABORTED");
    assert.match(err.message, /^watcher expired/);
    assert.equal((await rejection(idle.next())).message, "watcher was stopped");
    assert.equal(mw.metrics().expiredWatchersTotal, 1);
    const again = await mw.watchController({ sinceRevision: 1 }).next();
    assert.deepEqual(names(again.deltas), ["-a/0"]);
  });

  it("resumes since a revision with one result at once, even when empty", async () => {
    const { mw } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    mw.applyEvent(2, upsert(unit(uuid0, "a/1")));
    mw.applyEvent(3, removeUnit(uuid0, "a/0"));
    const r = await mw.watchController({ sinceRevision: 1 }).next();
    assert.deepEqual(r, {
      revision: 3,
      snapshot: false,
      bookmark: false,
      deltas: [
        { removed: false, revision: 2, entity: unit(uuid0, "a/1") },
        { removed: true, revision: 3, entity: unit(uuid0, "a/0") },
      ],
    });
    assert.deepEqual((await mw.watchController({ sinceRevision: 3 }).next()).deltas, []);
    assert.equal(mw.metrics().resultsTotal.resume, 2);
  });

  it("fails a resume outside [O, L] with OUT_OF_RANGE carrying O, then stops", async () => {
    const { mw } = setup();
    for (let s = 1; s <= 3; s++) mw.applyEvent(s, upsert(unit(uuid0, `a/${s}`)));
    mw.setLogBounds({ oldestRevision: 2, lastSequence: 3 });
    const old = mw.watchController({ sinceRevision: 1 });
    const err = await rejection(old.next());
    assert.equal(err.code, "OUT_OF_RANGE");
    assert.equal(err.oldestRevision, 2);
    assert.match(err.message, /revision 1 is older than the oldest resumable revision 2/);
    assert.equal((await rejection(old.next())).message, "watcher was stopped");
    const future = await rejection(mw.watchController({ sinceRevision: 4 }).next());
    assert.equal(future.code, "OUT_OF_RANGE");
    assert.match(future.message, /newer than the event log's last sequence 3/);
    assert.deepEqual(names((await mw.watchController({ sinceRevision: 2 }).next()).deltas), ["a/3"]);
  });

  it("waits until it has applied a resume revision the log holds but the replica has not applied yet", async () => {
    const { mw } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    mw.setLogBounds({ oldestRevision: 0, lastSequence: 3 });
    const w = track(mw.watchController({ sinceRevision: 3 }).next());
    mw.applyEvent(2, upsert(unit(uuid0, "a/2")));
    await settle();
    assert.equal(w.settled, false);
    mw.applyEvent(3, upsert(unit(uuid0, "a/3")));
    await settle();
    assert.deepEqual(w.value, { revision: 3, snapshot: false, bookmark: false, deltas: [] });
  });

  it("asks for fresh log bounds before refusing a revision above the known last sequence", async () => {
    let asked = 0;
    const { mw } = setup({
      refreshLogBounds: async () => {
        asked++;
        return { oldestRevision: 0, lastSequence: 2 };
      },
    });
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    const w = track(mw.watchController({ sinceRevision: 2 }).next());
    await settle();
    assert.equal(asked, 1);
    assert.equal(w.settled, false);
    mw.applyEvent(2, upsert(unit(uuid0, "a/1")));
    await settle();
    assert.equal(w.value?.revision, 2);
    const err = await rejection(mw.watchController({ sinceRevision: 7 }).next());
    assert.equal(err.code, "OUT_OF_RANGE");
  });

  it("applies a multi-event commit atomically at its last event's sequence, even interleaved", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    await w.next();
    const pending = track(w.next());
    const c1 = { commitId: "c1", commitSize: 2 };
    assert.equal(mw.applyEvent(1, upsert(unit(uuid0, "a/0"), { ...c1, commitIndex: 0 })), "buffered");
    assert.equal(mw.applyEvent(2, upsert(unit(uuid0, "b/0"))), "applied");
    await settle();
    assert.deepEqual(names(pending.value!.deltas), ["b/0"]);
    const next = track(w.next());
    assert.equal(mw.applyEvent(3, removeUnit(uuid0, "b/0", { ...c1, commitIndex: 1 })), "applied");
    await settle();
    assert.deepEqual(names(next.value!.deltas), ["a/0", "-b/0"]);
    assert.deepEqual(
      next.value!.deltas.map((d) => d.revision),
      [3, 3],
    );
    assert.equal(mw.revision, 3);
  });

  it("ignores redelivered sequences", () => {
    const { mw } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0", "active")));
    mw.applyEvent(2, upsert(unit(uuid0, "a/0", "blocked")));
    assert.equal(mw.applyEvent(1, upsert(unit(uuid0, "a/0", "active"))), "duplicate");
    assert.equal(mw.revision, 2);
  });

  it("skips, counts and logs events that cannot be applied, advancing the revision", async () => {
    const logged: object[] = [];
    const { mw } = setup({ logger: { warn: () => {}, error: (o) => logged.push(o) } });
    const w = mw.watchController();
    await w.next();
    const mismatched = upsert(unit(uuid0, "a/0"));
    mismatched.id = "a/9";
    mw.applyEvent(1, mismatched);
    mw.applyEvent(2, create(ChangeEventSchema, { modelUuid: uuid0, kind: "machine", id: "0" }));
    mw.skipEvent(3, "not a ChangeEvent");
    assert.equal(mw.revision, 3);
    assert.equal(mw.metrics().badEventsTotal, 3);
    assert.equal(logged.length, 3);
    assert.deepEqual(logged[0], {
      sequence: 1,
      reason: `entity unit ${uuid0}/a/0 does not match event unit ${uuid0}/a/9`,
    });
    assert.equal(mw.report()["store-size"], 0);
  });

  it("keeps watchers through a resumable failure and counts it", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    await w.next();
    const pending = track(w.next());
    mw.backingFailed(new Error("nats: connection closed"), { resumable: true });
    assert.equal(mw.nextSequence, 1);
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    await settle();
    assert.deepEqual(names(pending.value!.deltas), ["a/0"]);
    const r = mw.report();
    assert.equal(r["resume-count"], 1);
    assert.equal(r["restart-count"], 0);
    assert.deepEqual(r.errors, ["nats: connection closed"]);
  });

  it("fails every existing watcher once on a non-resumable failure and serves new ones after the reload", async () => {
    const { mw } = setup();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    const waiting = mw.watchController();
    await waiting.next();
    const outstanding = waiting.next();
    const unasked = mw.watchController();
    mw.backingFailed(new Error("boom"), { resumable: false });
    assert.equal(mw.report()["num-watchers"], 0);
    const fresh = track(mw.watchController().next());
    const err = await rejection(outstanding);
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal(err.message, "boom");
    assert.equal((await rejection(waiting.next())).message, "watcher was stopped");
    assert.equal((await rejection(unasked.next())).message, "boom");
    await settle();
    assert.equal(fresh.settled, false, "new watchers wait for the reload");
    assert.throws(() => mw.applyEvent(2, upsert(unit(uuid0, "a/1"))), /before the store was loaded/);
    mw.load({ revision: 5, entities: [{ entity: unit(uuid0, "a/0"), revision: 1 }] });
    await settle();
    assert.deepEqual(names(fresh.value!.deltas), ["a/0"]);
    assert.equal(mw.report()["restart-count"], 1);
  });

  it("keeps only the last five backing errors", () => {
    const { mw } = setup();
    assert.equal(mw.report().errors, undefined);
    for (let i = 1; i <= 7; i++) mw.backingFailed(`e${i}`, { resumable: true });
    assert.deepEqual(mw.report().errors, ["e3", "e4", "e5", "e6", "e7"]);
  });

  it("discards an undelivered error when the watcher is stopped", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    await w.next();
    mw.backingFailed("e1", { resumable: false });
    w.stop();
    assert.equal((await rejection(w.next())).message, "watcher was stopped");
  });

  it("fails every call with 'shared state watcher was stopped' after shutdown and applies nothing more", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    await w.next();
    const outstanding = w.next();
    mw.shutdown();
    const err = await rejection(outstanding);
    assert.equal(err.message, "shared state watcher was stopped");
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal((await rejection(w.next())).code, "UNAVAILABLE");
    assert.equal((await rejection(mw.watchController().next())).code, "UNAVAILABLE");
    assert.equal(mw.applyEvent(1, upsert(unit(uuid0, "a/0"))), "ignored");
    w.stop();
  });

  it("rejects invalid scopes and revisions when the watch is opened, without counting them", () => {
    const { mw } = setup();
    assert.throws(
      () => mw.watchModel("not-a-uuid"),
      (e: MultiwatcherError) => e.code === "INVALID_ARGUMENT",
    );
    assert.throws(
      () => mw.watchController({ sinceRevision: -1 }),
      (e: MultiwatcherError) => e.kind === "NotValid",
    );
    assert.equal(mw.report()["num-watchers"], 0);
  });

  it("validates its configuration", () => {
    assert.throws(() => new Multiwatcher({} as MultiwatcherConfig), /missing Clock not valid/);
    assert.throws(
      () => new Multiwatcher({ clock: new ManualClock(), bookmarkIntervalMs: 0 }),
      /bookmarkInterval/,
    );
  });

  it("iterates results until stopped, and stops the watcher when the loop is left", async () => {
    const { mw } = setup();
    const w = mw.watchController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const r of w) {
        seen.push(r.revision);
        if (seen.length === 2) w.stop();
      }
    })();
    await settle();
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    await loop;
    assert.deepEqual(seen, [0, 1]);
    const other = mw.watchController();
    for await (const _ of other) break;
    assert.equal(mw.report()["num-watchers"], 0);
  });

  it("reports the service's queue and times applied events", () => {
    const applied: number[] = [];
    const { mw } = setup({
      queueStats: () => ({ size: 3, ageSeconds: 1.5 }),
      onApply: (s) => applied.push(s),
    });
    mw.applyEvent(1, upsert(unit(uuid0, "a/0")));
    mw.applyEvent(2, upsert(unit(uuid0, "a/1"), { commitId: "c", commitIndex: 0, commitSize: 2 }));
    assert.equal(applied.length, 1, "a buffered event is not an application");
    const r = mw.report();
    assert.equal(r["queue-size"], 3);
    assert.equal(r["queue-age"], 1.5);
    assert.equal(r.revision, 2);
    assert.equal(mw.metrics().queueAgeSeconds, 1.5);
  });
});
