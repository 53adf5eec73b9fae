import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type EventLog, openEmbeddedLog } from "@concord/events";
import { type Client, Code, type ConcordError } from "@concord/grpc";
import { ManualClock } from "./domain";
import type { Feed } from "./feed";
import { MultiwatcherService } from "./server";
import {
  application,
  deltaNames,
  publish,
  reader,
  removeUnit,
  settle,
  startTestService,
  type TestService,
  unit,
  untilApplied,
  upsert,
  uuid0,
  uuid1,
} from "./testing";

const clock = new ManualClock(Date.now());
const dir = mkdtempSync(join(tmpdir(), "concord-mw-server-"));
let log: EventLog;
let service: TestService;
let feed: Feed;
let admin: Client<typeof MultiwatcherService>;

const clientFor = (tag: string) => service.client(MultiwatcherService, tag);

function watchModel(client: typeof admin, modelUuid: string, since?: number, logId = "") {
  const ac = new AbortController();
  const from = since === undefined ? undefined : { sinceRevision: BigInt(since), logId };
  return reader(client.watchModel({ modelUuid, from }, { signal: ac.signal }), ac);
}

async function failure(p: Promise<unknown>): Promise<ConcordError> {
  try {
    await p;
  } catch (err) {
    return err as ConcordError;
  }
  assert.fail("expected the call to fail");
}

const applied = (seq: number) => untilApplied(feed.multiwatcher, seq);

before(async () => {
  log = await openEmbeddedLog({ dir });
  // History written before the multiwatcher starts: it must rebuild it from the log alone.
  await publish(log, upsert(application(uuid0, "wordpress")), upsert(unit(uuid0, "wordpress/0")));
  await publish(log, upsert(unit(uuid1, "mysql/0")));
  service = await startTestService({ log, clock, bookmarkIntervalMs: 30_000 });
  feed = service.feed;
  admin = await clientFor("admin");
});

after(async () => {
  await service.stop();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("MultiwatcherService over gRPC", () => {
  test("the first message is the marked snapshot rebuilt from the log, then changes follow", async () => {
    const w = watchModel(admin, uuid0);
    const first = await w.next();
    assert.equal(first.snapshot, true);
    assert.equal(first.revision, 3n);
    assert.equal(first.logId, feed.logId());
    assert.deepEqual(deltaNames(first), ["wordpress", "wordpress/0"]);
    assert.deepEqual(
      first.deltas.map((d) => [d.kind, d.revision]),
      [
        ["application", 2n],
        ["unit", 2n],
      ],
    );
    const seq = await publish(log, upsert(unit(uuid0, "wordpress/0", "active")));
    const next = await w.next();
    assert.equal(next.snapshot, false);
    assert.equal(next.revision, BigInt(seq));
    assert.deepEqual(deltaNames(next), ["wordpress/0"]);
    w.cancel();
  });

  test("an empty model's snapshot is sent at once", async () => {
    const w = watchModel(admin, "22222222-2222-4222-8222-222222222222");
    const first = await w.next();
    assert.equal(first.snapshot, true);
    assert.deepEqual(first.deltas, []);
    w.cancel();
  });

  test("a watch since a revision gets exactly the coalesced changes after it, removals included", async () => {
    const since = feed.multiwatcher.revision;
    await publish(log, upsert(unit(uuid0, "wordpress/1")));
    await publish(log, upsert(unit(uuid0, "wordpress/1", "active")));
    await publish(log, removeUnit(uuid0, "wordpress/0"));
    const last = await publish(log, upsert(unit(uuid1, "mysql/0", "active")));
    await applied(last);
    const w = watchModel(admin, uuid0, since, feed.logId());
    const first = await w.next();
    assert.equal(first.snapshot, false);
    assert.equal(first.revision, BigInt(last));
    assert.deepEqual(deltaNames(first), ["wordpress/1", "-wordpress/0"]);
    w.cancel();
  });

  test("a revision beyond the log, or of another log, is OUT_OF_RANGE with the oldest resumable revision", async () => {
    const beyond = await failure(watchModel(admin, uuid0, 10_000).next());
    assert.equal(beyond.code, Code.OUT_OF_RANGE);
    assert.equal(beyond.kind, "RevisionOutOfRange");
    assert.equal(beyond.details.oldestRevision, "0");
    assert.match(beyond.message, /newer than the event log's last sequence/);
    const reset = await failure(watchModel(admin, uuid0, 1, "another-log").next());
    assert.equal(reset.code, Code.OUT_OF_RANGE);
    assert.equal(reset.details.oldestRevision, "0");
  });

  test("a malformed model UUID is INVALID_ARGUMENT and does not count as a watcher", async () => {
    const err = await failure(watchModel(admin, "not-a-uuid").next());
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(feed.multiwatcher.report()["num-watchers"], 0);
  });

  test("idle streams get bookmarks carrying the current revision", async () => {
    const w = watchModel(admin, uuid0);
    const timers = clock.pendingTimers();
    await w.next();
    const seq = await publish(log, upsert(unit(uuid1, "mysql/1")));
    await applied(seq);
    // The stream's next call is waiting once its bookmark timer is set.
    while (clock.pendingTimers() === timers) await settle();
    clock.advance(30_000);
    const bookmark = await w.next();
    assert.equal(bookmark.bookmark, true);
    assert.equal(bookmark.revision, BigInt(seq));
    assert.deepEqual(bookmark.deltas, []);
    w.cancel();
  });

  test("cancelling the call stops the watcher", async () => {
    const w = watchModel(admin, uuid0);
    await w.next();
    assert.equal(feed.multiwatcher.report()["num-watchers"], 1);
    w.cancel();
    while (feed.multiwatcher.report()["num-watchers"] > 0) await settle();
  });

  test("agents watch only models where their application lives, never the controller", async () => {
    const unitAgent = await clientFor("unit-wordpress-0");
    const w = watchModel(unitAgent, uuid0);
    assert.equal((await w.next()).snapshot, true);
    w.cancel();
    const appAgent = await clientFor("application-wordpress");
    assert.equal((await watchModel(appAgent, uuid0).next()).snapshot, true);
    const elsewhere = await failure(watchModel(unitAgent, uuid1).next());
    assert.equal(elsewhere.code, Code.PERMISSION_DENIED);
    const controller = await failure(
      (async () => {
        for await (const _ of unitAgent.watchController({})) return;
      })(),
    );
    assert.equal(controller.code, Code.PERMISSION_DENIED);
    assert.equal((await failure(unitAgent.report({}))).code, Code.PERMISSION_DENIED);
    unitAgent.close();
    appAgent.close();
  });

  test("admin watches the controller: every model", async () => {
    for await (const m of admin.watchController({})) {
      const names = deltaNames(m.result!);
      assert.ok(names.includes("wordpress/1") && names.includes("mysql/0"));
      break;
    }
  });

  test("the report and the metrics carry Juju's fields", async () => {
    const report = await admin.report({});
    assert.equal(report.revision, BigInt(feed.multiwatcher.revision));
    assert.equal(report.oldestRevision, 0n);
    assert.equal(report.restartCount, 0n);
    assert.equal(report.logId, feed.logId());
    assert.ok(report.storeSize >= 4n);
    const text = await service.metrics.registry.metrics();
    for (const name of [
      "concord_multiwatcher_watchers",
      "concord_multiwatcher_store_entries",
      "concord_multiwatcher_restarts_total",
      "concord_multiwatcher_queue_size",
      "concord_multiwatcher_queue_age_seconds",
      "concord_multiwatcher_apply_seconds_count",
      "concord_multiwatcher_append_seconds_count",
      "concord_multiwatcher_duplicates_total",
    ]) {
      assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? `, "m"), name);
    }
    assert.match(text, /concord_multiwatcher_results_total\{type="snapshot"\} [1-9]/);
  });

  test("shutting the multiwatcher down ends open streams with UNAVAILABLE", async () => {
    const w = watchModel(admin, uuid0);
    await w.next();
    const pending = failure(w.next());
    await feed.stop();
    const err = await pending;
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.match(err.message, /shared state watcher was stopped/);
  });
});
