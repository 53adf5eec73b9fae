import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { createTestDatabase } from "@concord/db";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import { openEmbeddedLog } from "./embedded-log";
import { EventLogError } from "./errors";
import { eventTablesDdl, writeOutbox } from "./outbox";
import { startRelay } from "./relay";
import { subjectFor } from "./subjects";
import { unitEvent } from "./test-events";
import type { EventLog, Logger, LogMessage } from "./types";

const db = await createTestDatabase();
const dirs: string[] = [];
after(async () => {
  await db.drop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const MODEL = "6f1a7c2e-0000-4000-8000-000000000001";
let schemaCount = 0;

/** A fresh service schema with its outbox, and a fresh embedded log. */
async function setup(t: TestContext): Promise<{ schema: string; log: EventLog }> {
  const schema = `svc${++schemaCount}`;
  await db.sql.unsafe(eventTablesDdl(schema));
  const dir = await mkdtemp(join(tmpdir(), "concord-outbox-"));
  dirs.push(dir);
  const log = await openEmbeddedLog({ dir });
  t.after(() => log.close());
  return { schema, log };
}

async function outboxRows(schema: string) {
  return db.sql<{ id: string; subject: string; msg_id: string; payload: Buffer }[]>`
    select id, subject, msg_id, payload from ${db.sql(`${schema}.outbox`)} order by id`;
}

const decode = (m: LogMessage) => fromBinary(ChangeEventSchema, m.data);

before(async () => {
  await db.sql`create table units (name text primary key, status text not null)`;
});

test("writeOutbox stamps one commit and commits or rolls back with the state change", async (t) => {
  const { schema } = await setup(t);
  const events = [unitEvent(MODEL, "mysql/0"), unitEvent(MODEL, "mysql/1")];
  const commitId = await db.sql.begin(async (tx) => {
    await tx`insert into units values ('mysql/0', 'active'), ('mysql/1', 'active')`;
    return writeOutbox(tx, schema, events);
  });
  const rows = await outboxRows(schema);
  assert.deepEqual(
    rows.map((r) => [r.subject, r.msg_id]),
    [
      [subjectFor(events[0]!), `${commitId}:0`],
      [subjectFor(events[1]!), `${commitId}:1`],
    ],
  );
  const stored = rows.map((r) => fromBinary(ChangeEventSchema, r.payload));
  assert.deepEqual(
    stored.map((e) => [e.id, e.commitId, e.commitIndex, e.commitSize]),
    [
      ["mysql/0", commitId, 0, 2],
      ["mysql/1", commitId, 1, 2],
    ],
  );
  assert.equal(events[0]?.commitId, "", "the caller's events are not modified");

  await assert.rejects(
    db.sql.begin(async (tx) => {
      await writeOutbox(tx, schema, [unitEvent(MODEL, "mysql/2")]);
      throw new Error("rolled back");
    }),
  );
  assert.equal((await outboxRows(schema)).length, 2);
  assert.equal(await db.sql.begin((tx) => writeOutbox(tx, schema, [])), undefined);
});

test("the relay publishes outbox rows in commit order with their msgIds, then deletes them", async (t) => {
  const { schema, log } = await setup(t);
  const relay = startRelay({ sql: db.sql, schema, log, batchSize: 3, pollMs: 50 });
  t.after(() => relay.stop());
  const commits: string[] = [];
  for (let i = 0; i < 4; i++) {
    const events = [unitEvent(MODEL, `app/${i}`), unitEvent(MODEL, `app/${i}`, "maintenance")];
    commits.push((await db.sql.begin((tx) => writeOutbox(tx, schema, events))) as string);
  }
  await relay.drained();
  const published = await log.read(1, 100);
  assert.deepEqual(
    published.map((m) => m.msgId),
    commits.flatMap((c) => [`${c}:0`, `${c}:1`]),
  );
  assert.deepEqual(
    published.map((m) => [decode(m).id, m.subject]),
    commits.flatMap((_, i) => [
      [`app/${i}`, subjectFor({ modelUuid: MODEL, kind: "unit", id: `app/${i}` })],
      [`app/${i}`, subjectFor({ modelUuid: MODEL, kind: "unit", id: `app/${i}` })],
    ]),
  );
  assert.equal((await outboxRows(schema)).length, 0);
});

test("concurrent writers' events reach the log whole, per commit, and in each writer's order", async (t) => {
  const { schema, log } = await setup(t);
  const relay = startRelay({ sql: db.sql, schema, log, batchSize: 7, pollMs: 50 });
  t.after(() => relay.stop());
  const writers = 4;
  const commitsPerWriter = 15;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let c = 0; c < commitsPerWriter; c++) {
        await db.sql.begin(async (tx) => {
          await tx`select pg_sleep(${Math.random() / 200})`;
          await writeOutbox(tx, schema, [
            unitEvent(MODEL, `w${w}/${c}`),
            unitEvent(MODEL, `w${w}/${c}`, "blocked"),
          ]);
        });
      }
    }),
  );
  await relay.drained();
  const events = (await log.read(1, 1000)).map(decode);
  assert.equal(events.length, writers * commitsPerWriter * 2);
  assert.equal(new Set(events.map((e) => `${e.commitId}:${e.commitIndex}`)).size, events.length);
  for (let i = 0; i < events.length; i += 2) {
    assert.equal(events[i]?.commitId, events[i + 1]?.commitId, "a commit's events are contiguous");
    assert.deepEqual([events[i]?.commitIndex, events[i + 1]?.commitIndex], [0, 1]);
  }
  for (let w = 0; w < writers; w++) {
    const mine = events.filter((e, i) => i % 2 === 0 && e.id.startsWith(`w${w}/`)).map((e) => e.id);
    assert.deepEqual(
      mine,
      Array.from({ length: commitsPerWriter }, (_, c) => `w${w}/${c}`),
    );
  }
});

test("a row committed late by a writer that started first is not skipped", async (t) => {
  const { schema, log } = await setup(t);
  const relay = startRelay({ sql: db.sql, schema, log, pollMs: 20 });
  t.after(() => relay.stop());
  let releaseFirst!: () => void;
  const firstHolds = new Promise<void>((resolve) => {
    releaseFirst = resolve;
  });
  let firstWrote!: () => void;
  const wrote = new Promise<void>((resolve) => {
    firstWrote = resolve;
  });
  const first = db.sql.begin(async (tx) => {
    await writeOutbox(tx, schema, [unitEvent(MODEL, "first/0")]);
    firstWrote();
    await firstHolds;
  });
  await wrote;
  // The second writer queues behind the first one's lock, so its row can only get a higher id.
  const second = db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "second/0")]));
  await relay.drained();
  assert.deepEqual(await log.read(1, 10), []);
  releaseFirst();
  await Promise.all([first, second]);
  await relay.drained();
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => decode(m).id),
    ["first/0", "second/0"],
  );
});

test("rows already published before a crash are not published twice", async (t) => {
  const { schema, log } = await setup(t);
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/0"), unitEvent(MODEL, "a/1")]));
  // A relay published the first row, then died before deleting it.
  const [row] = await outboxRows(schema);
  await log.append(row!.subject, row!.payload, { msgId: row!.msg_id });
  const relay = startRelay({ sql: db.sql, schema, log, pollMs: 20 });
  t.after(() => relay.stop());
  await relay.drained();
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => decode(m).id),
    ["a/0", "a/1"],
  );
});

test("while the log is unavailable the relay retries, logging once per outage, and loses nothing", async (t) => {
  const { schema, log } = await setup(t);
  let failuresLeft = 0;
  const flaky: EventLog = {
    ...log,
    append: (subject, data, opts) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        return Promise.reject(new EventLogError("EventLogUnavailable", "nats is away"));
      }
      return log.append(subject, data, opts);
    },
    read: (from, limit) => log.read(from, limit),
  };
  const lines: string[] = [];
  const logger: Logger = {
    info: (_, msg) => lines.push(`info ${msg}`),
    warn: (_, msg) => lines.push(`warn ${msg}`),
    error: (_, msg) => lines.push(`error ${msg}`),
  };
  const relay = startRelay({ sql: db.sql, schema, log: flaky, logger, pollMs: 20, maxBackoffMs: 5 });
  t.after(() => relay.stop());
  failuresLeft = 5;
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/0"), unitEvent(MODEL, "a/1")]));
  await relay.drained();
  failuresLeft = 3;
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/2")]));
  await relay.drained();
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => decode(m).id),
    ["a/0", "a/1", "a/2"],
  );
  assert.deepEqual(
    lines.filter((l) => !l.includes("outbox relay publishing")),
    [
      "warn cannot publish to the event log; retrying",
      "info event log available again; outbox relay resumed",
      "warn cannot publish to the event log; retrying",
      "info event log available again; outbox relay resumed",
    ],
  );
});

test("a pipelined batch whose tail failed keeps the acknowledged head and retries the rest in order", async (t) => {
  const { schema, log } = await setup(t);
  assert.equal(log.ordersPipelinedAppends, true);
  let calls = 0;
  // The first batch of five: appends 3 to 5 fail, as a log that stopped mid-batch would fail them.
  const stumbling: EventLog = {
    ...log,
    append: (subject, data, opts) => {
      calls++;
      if (calls >= 3 && calls <= 5) {
        return Promise.reject(new EventLogError("EventLogUnavailable", "write failed"));
      }
      return log.append(subject, data, opts);
    },
    read: (from, limit) => log.read(from, limit),
  };
  const relay = startRelay({
    sql: db.sql,
    schema,
    log: stumbling,
    batchSize: 5,
    pollMs: 20,
    maxBackoffMs: 5,
  });
  t.after(() => relay.stop());
  const ids = Array.from({ length: 7 }, (_, i) => `a/${i}`);
  await db.sql.begin((tx) =>
    writeOutbox(
      tx,
      schema,
      ids.map((id) => unitEvent(MODEL, id)),
    ),
  );
  await relay.drained();
  assert.deepEqual(
    (await log.read(1, 20)).map((m) => decode(m).id),
    ids,
  );
  assert.equal(calls, 10, "five pipelined, the three that failed one by one, then the last two pipelined");
});

test("one relay per schema publishes; a standby takes over when it stops", async (t) => {
  const { schema, log } = await setup(t);
  const appendsBy = { a: 0, b: 0 };
  const counting = (who: "a" | "b"): EventLog => ({
    ...log,
    append: (subject, data, opts) => {
      appendsBy[who]++;
      return log.append(subject, data, opts);
    },
  });
  const a = startRelay({ sql: db.sql, schema, log: counting("a"), pollMs: 20 });
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/0")]));
  await a.drained();
  const b = startRelay({ sql: db.sql, schema, log: counting("b"), pollMs: 20 });
  t.after(() => b.stop());
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/1")]));
  await a.drained();
  assert.deepEqual(appendsBy, { a: 2, b: 0 });
  await a.stop();
  await db.sql.begin((tx) => writeOutbox(tx, schema, [unitEvent(MODEL, "a/2")]));
  await b.drained();
  assert.deepEqual(appendsBy, { a: 2, b: 1 });
  assert.deepEqual(
    (await log.read(1, 10)).map((m) => decode(m).id),
    ["a/0", "a/1", "a/2"],
  );
});
