import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, type TestContext, test } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { createTestDatabase } from "@concord/db";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import { startConsumer } from "./consumer";
import { openEmbeddedLog } from "./embedded-log";
import { eventTablesDdl } from "./outbox";
import { subjectFor } from "./subjects";
import { unitEvent } from "./test-events";
import type { ConsumerOptions, EventLog, Logger } from "./types";

const db = await createTestDatabase();
const dirs: string[] = [];
after(async () => {
  await db.drop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const MODEL = "6f1a7c2e-0000-4000-8000-000000000002";
let schemaCount = 0;

async function setup(
  t: TestContext,
): Promise<{ schema: string; log: EventLog; seen: () => Promise<[string, number][]> }> {
  const schema = `consumer${++schemaCount}`;
  await db.sql.unsafe(eventTablesDdl(schema));
  await db.sql.unsafe(`create table ${schema}.seen (id text not null, seq bigint not null)`);
  const dir = await mkdtemp(join(tmpdir(), "concord-consumer-"));
  dirs.push(dir);
  const log = await openEmbeddedLog({ dir });
  t.after(() => log.close());
  const seen = async () =>
    (await db.sql.unsafe(`select id, seq from ${schema}.seen order by seq, id`)).map(
      (r) => [r.id, Number(r.seq)] as [string, number],
    );
  return { schema, log, seen };
}

async function publish(log: EventLog, modelUuid: string, kind: string, id: string): Promise<number> {
  const event = { ...unitEvent(modelUuid, id), kind };
  return (await log.append(subjectFor(event), toBinary(ChangeEventSchema, event))).seq;
}

function recorder(schema: string): ConsumerOptions["handle"] {
  return async (tx, event, seq) => {
    await tx.unsafe(`insert into ${schema}.seen values ($1, $2)`, [event.id, seq]);
  };
}

async function offset(schema: string, name: string): Promise<number> {
  const [row] = await db.sql.unsafe(`select seq from ${schema}.consumer_offsets where name = $1`, [name]);
  return Number(row?.seq);
}

test("a consumer handles each event once and resumes after a restart", async (t) => {
  const { schema, log, seen } = await setup(t);
  for (const u of ["a/0", "a/1", "a/2"]) await publish(log, MODEL, "unit", u);
  const options = { log, sql: db.sql, schema, name: "units", handle: recorder(schema) };
  const first = await startConsumer(options);
  await first.reached(3);
  await first.stop();
  assert.equal(await offset(schema, "units"), 3);
  await publish(log, MODEL, "unit", "a/3");
  const second = await startConsumer(options);
  assert.equal(second.position(), 3);
  await second.reached(4);
  await second.stop();
  assert.deepEqual(await seen(), [
    ["a/0", 1],
    ["a/1", 2],
    ["a/2", 3],
    ["a/3", 4],
  ]);
});

test("events the filters reject are skipped, and the position still advances", async (t) => {
  const { schema, log, seen } = await setup(t);
  await publish(log, MODEL, "unit", "a/0");
  await publish(log, MODEL, "relation", "a:b c:d");
  await publish(log, "other-model", "unit", "b/0");
  await publish(log, MODEL, "unit", "a/1");
  const consumer = await startConsumer({
    log,
    sql: db.sql,
    schema,
    name: "units",
    filterSubject: "concord.events.*.unit.*",
    filter: (subject) => !subject.includes("other-model"),
    handle: recorder(schema),
  });
  await consumer.reached(4);
  await consumer.stop();
  assert.deepEqual(await seen(), [
    ["a/0", 1],
    ["a/1", 4],
  ]);
  assert.equal(await offset(schema, "units"), 4);
});

test("a failing handler is retried and its partial effects roll back", async (t) => {
  const { schema, log, seen } = await setup(t);
  await publish(log, MODEL, "unit", "a/0");
  let failures = 2;
  const errors: string[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (_, msg) => errors.push(msg ?? "") };
  const consumer = await startConsumer({
    log,
    sql: db.sql,
    schema,
    name: "units",
    logger,
    maxBackoffMs: 5,
    handle: async (tx, event, seq) => {
      await recorder(schema)(tx, event, seq);
      if (failures-- > 0) throw new Error("not yet");
    },
  });
  await consumer.reached(1);
  await consumer.stop();
  assert.deepEqual(await seen(), [["a/0", 1]]);
  assert.deepEqual(errors, ["event handler failed", "event handler failed"]);
});

test("two replicas of one consumer apply each event once", async (t) => {
  const { schema, log, seen } = await setup(t);
  const options = { log, sql: db.sql, schema, name: "units", handle: recorder(schema) };
  const [a, b] = await Promise.all([startConsumer(options), startConsumer(options)]);
  for (let i = 0; i < 20; i++) await publish(log, MODEL, "unit", `a/${i}`);
  await Promise.all([a.reached(20), b.reached(20)]);
  await Promise.all([a.stop(), b.stop()]);
  assert.deepEqual(
    await seen(),
    Array.from({ length: 20 }, (_, i) => [`a/${i}`, i + 1]),
  );
});

test("an undecodable event is logged and skipped", async (t) => {
  const { schema, log, seen } = await setup(t);
  await log.append("concord.events.m.unit.x", new Uint8Array([0xff, 0xff, 0xff]));
  await publish(log, MODEL, "unit", "a/0");
  const errors: string[] = [];
  const consumer = await startConsumer({
    log,
    sql: db.sql,
    schema,
    name: "units",
    logger: { info() {}, warn() {}, error: (_, msg) => errors.push(msg ?? "") },
    handle: recorder(schema),
  });
  await consumer.reached(2);
  await consumer.stop();
  assert.deepEqual(await seen(), [["a/0", 2]]);
  assert.deepEqual(errors, ["undecodable event skipped"]);
});
