import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { createTestDatabase } from "@concord/db";
import { type ChangeEvent, ChangeEventSchema } from "@concord/proto/events/v1/events";
import { openNatsLog } from "./nats-log";
import { eventTablesDdl, writeOutbox } from "./outbox";
import { unitEvent } from "./test-events";
import { startNatsServer, testStreamName } from "./testing";

const MODEL = "6f1a7c2e-0000-4000-8000-000000000003";
const SCHEMA = "crash";
const BATCH = 10;

/** Starts the relay child; `onAppend` sees the count of appends acknowledged and whether each was a duplicate. */
function startChild(
  env: Record<string, string>,
  onAppend: (count: number, duplicate: boolean) => void,
): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("relay-child.ts", import.meta.url))],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stderr?.resume();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const [word, count, , duplicate] = line.split(" ");
    if (word === "appended") onAppend(Number(count), duplicate === "true");
  });
  process.once("exit", () => child.kill("SIGKILL"));
  return child;
}

test("a relay killed mid-batch and a NATS restart lose nothing and double nothing", {
  timeout: 120_000,
}, async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  await db.sql.unsafe(eventTablesDdl(SCHEMA));
  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const stream = testStreamName();
  const log = await openNatsLog({ url: nats.url, stream, namespace: stream, timeoutMs: 1000 });
  t.after(() => log.close());

  // The consumer: subscribed from the start, across the crash and the NATS restart.
  const received: { seq: number; msgId: string; event: ChangeEvent }[] = [];
  let expected = Number.POSITIVE_INFINITY;
  let allReceived!: () => void;
  const done = new Promise<void>((resolve) => {
    allReceived = resolve;
  });
  const sub = log.subscribe(1);
  const consuming = (async () => {
    for await (const m of sub) {
      received.push({ seq: m.seq, msgId: m.msgId ?? "", event: fromBinary(ChangeEventSchema, m.data) });
      if (received.length >= expected) allReceived();
    }
  })();

  const writes: string[] = [];
  const write = async (writer: string, n: number) => {
    const events = [unitEvent(MODEL, `${writer}/${n}`), unitEvent(MODEL, `${writer}/${n}`, "maintenance")];
    const commitId = await db.sql.begin((tx) => writeOutbox(tx, SCHEMA, events));
    writes.push(`${commitId}:0`, `${commitId}:1`);
  };
  // A backlog, so that the first relay's batches are full and the kill lands inside one.
  for (let n = 0; n < 30; n++) await write("backlog", n);

  let killedAt = 0;
  const killed = new Promise<void>((resolve) => {
    const child = startChild(
      { DATABASE_URL: db.url, NATS_URL: nats.url, STREAM: stream, SCHEMA, BATCH_SIZE: String(BATCH) },
      (count) => {
        if (count === 3 * BATCH + 4 && killedAt === 0) {
          killedAt = count;
          child.kill("SIGKILL");
          child.once("exit", () => resolve());
        }
      },
    );
  });
  // Writers keep committing through the crash, the NATS restart and the second relay.
  const writers = ["w1", "w2"].map(async (w) => {
    for (let n = 0; n < 40; n++) {
      await write(w, n);
      await db.sql`select pg_sleep(0.01)`;
    }
  });
  await killed;
  assert.ok(killedAt % BATCH !== 0, "killed mid-batch");
  const [{ left }] =
    (await db.sql`select count(*)::int as left from ${db.sql(`${SCHEMA}.outbox`)}`) as unknown as [
      { left: number },
    ];
  assert.ok(left > 0, "the killed relay left published rows in the outbox");

  let secondAppends = 0;
  let duplicates = 0;
  let restarted = false;
  let restartDone!: Promise<void>;
  const second = startChild(
    { DATABASE_URL: db.url, NATS_URL: nats.url, STREAM: stream, SCHEMA, BATCH_SIZE: String(BATCH) },
    (count, duplicate) => {
      secondAppends = count;
      if (duplicate) duplicates++;
      if (count === 15 && !restarted) {
        restarted = true;
        restartDone = nats.restart();
      }
    },
  );
  await Promise.all(writers);
  expected = writes.length;
  if (received.length >= expected) allReceived();
  await done;
  await restartDone;
  await sub.stop();
  await consuming;
  const exited = new Promise((resolve) => second.once("exit", resolve));
  second.kill("SIGKILL");
  await exited;

  assert.ok(secondAppends > 15);
  assert.ok(duplicates > 0, "the second relay re-published rows the first one had published");
  assert.equal(received.length, writes.length, "every event arrives exactly once");
  assert.deepEqual(
    received.map((r) => r.seq),
    Array.from({ length: writes.length }, (_, i) => i + 1),
  );
  assert.deepEqual(new Set(received.map((r) => r.msgId)), new Set(writes));
  for (let i = 0; i < received.length; i += 2) {
    const [a, b] = [received[i]?.event, received[i + 1]?.event];
    assert.equal(a?.commitId, b?.commitId, "a commit's events are contiguous");
    assert.deepEqual([a?.commitIndex, b?.commitIndex], [0, 1]);
  }
  for (const writer of ["backlog", "w1", "w2"]) {
    const ids = received
      .filter((r, i) => i % 2 === 0 && r.event.id.startsWith(`${writer}/`))
      .map((r) => r.event.id);
    assert.deepEqual(
      ids,
      Array.from({ length: writer === "backlog" ? 30 : 40 }, (_, n) => `${writer}/${n}`),
      `${writer}'s commits in order`,
    );
  }
});
