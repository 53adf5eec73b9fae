import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import { openEmbeddedLog } from "./embedded-log";
import { isEventLogError } from "./errors";
import { openNatsLog } from "./nats-log";
import { parseSubject, subjectFilter, subjectFor } from "./subjects";
import { dropTestStreams, startNatsServer, testNatsUrl, testStreamName } from "./testing";
import type { EventLog, LogMessage, Subscription } from "./types";

/** How the contract suite opens a fresh, empty log. */
interface Harness {
  name: string;
  open(): Promise<EventLog>;
}

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "concord-events-"));
  dirs.push(dir);
  return dir;
}

const embedded: Harness = {
  name: "embedded",
  open: async () => openEmbeddedLog({ dir: await tempDir() }),
};

const nats: Harness = {
  name: "nats",
  open: async () => {
    const stream = testStreamName();
    return openNatsLog({ url: await testNatsUrl(), stream, namespace: stream });
  },
};

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Takes the next `n` messages of a subscription. */
async function take(it: AsyncIterator<LogMessage>, n: number): Promise<LogMessage[]> {
  const out: LogMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function iterate(sub: Subscription): AsyncIterator<LogMessage> {
  return sub[Symbol.asyncIterator]();
}

function contract(h: Harness) {
  describe(`EventLog contract (${h.name})`, { timeout: 60_000 }, () => {
    const logs: EventLog[] = [];
    const open = async () => {
      const log = await h.open();
      logs.push(log);
      return log;
    };
    after(async () => {
      await Promise.all(logs.map((l) => l.close().catch(() => {})));
      await dropTestStreams();
    });

    test("a new log is empty at sequence 0", async () => {
      const log = await open();
      const info = await log.info();
      assert.deepEqual({ ...info, logId: "" }, { firstSeq: 1, lastSeq: 0, messages: 0, logId: "" });
      assert.ok(info.logId);
      assert.deepEqual(await log.read(1, 10), []);
      assert.deepEqual(await log.lastPerSubject(), { messages: [], lastSeq: 0 });
    });

    test("appends get sequences 1, 2, 3... and read returns them in order", async () => {
      const log = await open();
      const seqs = [];
      for (const s of ["a", "b", "c", "d"])
        seqs.push((await log.append(`concord.events.m.unit.${s}`, enc(s))).seq);
      assert.deepEqual(seqs, [1, 2, 3, 4]);
      const all = await log.read(1, 100);
      assert.deepEqual(
        all.map((m) => [m.seq, m.subject, dec(m.data)]),
        [
          [1, "concord.events.m.unit.a", "a"],
          [2, "concord.events.m.unit.b", "b"],
          [3, "concord.events.m.unit.c", "c"],
          [4, "concord.events.m.unit.d", "d"],
        ],
      );
      assert.ok(all.every((m) => m.time instanceof Date));
      assert.deepEqual(
        (await log.read(2, 2)).map((m) => m.seq),
        [2, 3],
      );
      assert.deepEqual(
        (await log.read(0, 1)).map((m) => m.seq),
        [1],
      );
      assert.deepEqual(await log.read(5, 10), []);
      const info = await log.info();
      assert.deepEqual([info.firstSeq, info.lastSeq, info.messages], [1, 4, 4]);
    });

    test("concurrent appends get distinct, gap-free sequences in log order", async () => {
      const log = await open();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => log.append(`concord.events.m.unit.u${i}`, enc(String(i)))),
      );
      const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      const read = await log.read(1, 100);
      assert.deepEqual(
        read.map((m) => m.seq),
        seqs,
      );
      for (const [i, r] of results.entries())
        assert.equal(dec(read[r.seq - 1]?.data as Uint8Array), String(i));
    });

    test("a msgId seen within the duplicate window is not stored twice", async () => {
      const log = await open();
      const first = await log.append("concord.events.m.unit.a", enc("1"), { msgId: "c1:0" });
      await log.append("concord.events.m.unit.b", enc("2"), { msgId: "c1:1" });
      const again = await log.append("concord.events.m.unit.a", enc("1"), { msgId: "c1:0" });
      assert.deepEqual(first, { seq: 1, duplicate: false });
      assert.deepEqual(again, { seq: 1, duplicate: true });
      const all = await log.read(1, 10);
      assert.deepEqual(
        all.map((m) => [m.seq, m.msgId]),
        [
          [1, "c1:0"],
          [2, "c1:1"],
        ],
      );
    });

    test("lastPerSubject holds the last message of each subject with its sequence", async () => {
      const log = await open();
      await log.append("concord.events.m1.unit.a", enc("a1"));
      await log.append("concord.events.m1.unit.b", enc("b1"));
      await log.append("concord.events.m2.unit.c", enc("c1"));
      await log.append("concord.events.m1.unit.a", enc("a2"));
      const all = await log.lastPerSubject();
      assert.equal(all.lastSeq, 4);
      assert.deepEqual(
        all.messages.map((m) => [m.seq, m.subject, dec(m.data)]),
        [
          [2, "concord.events.m1.unit.b", "b1"],
          [3, "concord.events.m2.unit.c", "c1"],
          [4, "concord.events.m1.unit.a", "a2"],
        ],
      );
      const m1 = await log.lastPerSubject("concord.events.m1.>");
      assert.deepEqual(
        m1.messages.map((m) => m.seq),
        [2, 4],
      );
      const none = await log.lastPerSubject("concord.events.m3.*.*");
      assert.deepEqual(none.messages, []);
    });

    test("subscribe replays from a sequence, then delivers live appends", async () => {
      const log = await open();
      for (const s of ["a", "b", "c"]) await log.append(`concord.events.m.unit.${s}`, enc(s));
      const sub = log.subscribe(2);
      const it = iterate(sub);
      assert.deepEqual(
        (await take(it, 2)).map((m) => [m.seq, dec(m.data)]),
        [
          [2, "b"],
          [3, "c"],
        ],
      );
      const next = take(it, 2);
      await log.append("concord.events.m.unit.d", enc("d"));
      await log.append("concord.events.m.unit.e", enc("e"));
      assert.deepEqual(
        (await next).map((m) => [m.seq, dec(m.data)]),
        [
          [4, "d"],
          [5, "e"],
        ],
      );
      const pending = it.next();
      await sub.stop();
      assert.equal((await pending).done, true);
    });

    test("subscribe from the next sequence of an empty log waits for the first append", async () => {
      const log = await open();
      const sub = log.subscribe(1);
      const it = iterate(sub);
      const first = it.next();
      await log.append("concord.events.m.unit.a", enc("a"));
      assert.equal((await first).value?.seq, 1);
      await sub.stop();
    });

    test("a filtered subscription sees only matching subjects, in order", async () => {
      const log = await open();
      await log.append("concord.events.m1.unit.a", enc("1"));
      await log.append("concord.events.m2.unit.a", enc("2"));
      await log.append("concord.events.m1.relation.r", enc("3"));
      const sub = log.subscribe(1, { filterSubject: "concord.events.m1.>" });
      const it = iterate(sub);
      assert.deepEqual(
        (await take(it, 2)).map((m) => m.seq),
        [1, 3],
      );
      const next = it.next();
      await log.append("concord.events.m2.unit.b", enc("4"));
      await log.append("concord.events.m1.unit.b", enc("5"));
      assert.equal((await next).value?.seq, 5);
      await sub.stop();
    });

    test("subscribing past the log's end fails with OutOfRange", async () => {
      const log = await open();
      await log.append("concord.events.m.unit.a", enc("a"));
      const it = iterate(log.subscribe(5));
      await assert.rejects(it.next(), (err) => isEventLogError(err, "OutOfRange"));
    });

    test("escaped entity subjects are stored and filtered as they are", async () => {
      const log = await open();
      const ref = { modelUuid: "m-1", kind: "relation", id: "wordpress:db mysql:server" };
      await log.append(subjectFor(ref), enc("r"));
      await log.append(subjectFor({ ...ref, kind: "unit", id: "mysql/0" }), enc("u"));
      const relations = await log.lastPerSubject(subjectFilter({ modelUuid: "m-1", kind: "relation" }));
      assert.deepEqual(
        relations.messages.map((m) => parseSubject(m.subject)),
        [ref],
      );
    });

    test("subjects must be literal NATS subjects", async () => {
      const log = await open();
      for (const bad of [
        "concord.events.*",
        "concord.events.>",
        "concord.events..x",
        "concord.events.a b",
        "",
        "other.x",
      ]) {
        await assert.rejects(log.append(bad, enc("x")), (err) => isEventLogError(err, "NotValid"), bad);
      }
    });
  });
}

contract(embedded);
contract(nats);

/** Appends, retrying while the log is unavailable (NATS restarting). */
async function appendEventually(log: EventLog, subject: string, data: Uint8Array, msgId: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await log.append(subject, data, { msgId });
    } catch (err) {
      if (!isEventLogError(err, "EventLogUnavailable") || attempt > 100) throw err;
    }
  }
}

describe("persistence", { timeout: 60_000 }, () => {
  test("the embedded log rebuilds the same state when re-opened", async (t) => {
    const dir = await tempDir();
    const log = await openEmbeddedLog({ dir });
    await log.append("concord.events.m.unit.a", enc("a1"), { msgId: "x:0" });
    await log.append("concord.events.m.unit.b", enc("b1"));
    await log.append("concord.events.m.unit.a", enc("a2"));
    const before = { info: await log.info(), all: await log.read(1, 10), last: await log.lastPerSubject() };
    await log.close();
    const reopened = await openEmbeddedLog({ dir });
    t.after(() => reopened.close());
    assert.deepEqual(await reopened.info(), before.info);
    assert.deepEqual(await reopened.read(1, 10), before.all);
    assert.deepEqual(await reopened.lastPerSubject(), before.last);
    assert.deepEqual(await reopened.append("concord.events.m.unit.a", enc("a1"), { msgId: "x:0" }), {
      seq: 1,
      duplicate: true,
    });
    assert.equal((await reopened.append("concord.events.m.unit.c", enc("c1"))).seq, 4);
  });

  test("the NATS log and its subscriptions survive a NATS restart", async (t) => {
    const server = await startNatsServer();
    t.after(() => server.stop());
    const log = await openNatsLog({ url: server.url, stream: testStreamName() });
    t.after(() => log.close());
    await log.append("concord.events.m.unit.a", enc("a1"), { msgId: "x:0" });
    const before = await log.info();
    const interruptions: Error[] = [];
    const sub = log.subscribe(1, { onInterrupted: (err) => interruptions.push(err) });
    const it = iterate(sub);
    assert.equal((await it.next()).value?.seq, 1);
    await server.restart();
    assert.deepEqual(await appendEventually(log, "concord.events.m.unit.a", enc("a1"), "x:0"), {
      seq: 1,
      duplicate: true,
    });
    assert.equal((await appendEventually(log, "concord.events.m.unit.b", enc("b1"), "x:1")).seq, 2);
    assert.deepEqual(
      (await take(it, 1)).map((m) => [m.seq, dec(m.data)]),
      [[2, "b1"]],
    );
    assert.equal((await log.info()).logId, before.logId);
    await sub.stop();
  });
});

describe("NATS retention", { timeout: 30_000 }, () => {
  test("a NATS subscription from messages the stream no longer holds fails with OutOfRange", async (t) => {
    const url = await testNatsUrl();
    const stream = testStreamName();
    const log = await openNatsLog({ url, stream, namespace: stream });
    t.after(async () => {
      await log.close();
      await dropTestStreams();
    });
    for (const s of ["a", "b", "c"]) await log.append(`concord.events.m.unit.${s}`, enc(s));
    const nc = await connectNats({ servers: url });
    await (await jetstreamManager(nc)).streams.purge(stream);
    await nc.close();
    const info = await log.info();
    assert.deepEqual([info.firstSeq, info.lastSeq, info.messages], [4, 3, 0]);
    await assert.rejects(
      iterate(log.subscribe(2)).next(),
      (err) => isEventLogError(err, "OutOfRange") && err.firstSeq === 4,
    );
    const it = iterate(log.subscribe(4));
    const next = it.next();
    await log.append("concord.events.m.unit.d", enc("d"));
    assert.equal((await next).value?.seq, 4);
  });
});
