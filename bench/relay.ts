// `node --import tsx bench/relay.ts`: outbox relay throughput, from a filled outbox to the event log, with each
// batch published one append at a time and pipelined, on the embedded log and on NATS JetStream.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createTestDatabase } from "@concord/db";
import {
  type EventLog,
  eventTablesDdl,
  openEmbeddedLog,
  openNatsLog,
  startNatsServer,
  startRelay,
  testStreamName,
  writeOutbox,
} from "@concord/events";
import { ChangeEventSchema, EntitySchema, Life, UnitInfoSchema } from "@concord/proto/events/v1/events";
import { machine, table, writeSection } from "./lib/results";

const EVENTS = 5000;
const PER_COMMIT = 10;
const BATCH = 100;
const MODEL = "6f1a7c2e-0000-4000-8000-00000000be00";

function unitEvent(i: number) {
  const name = `app${i % 50}/${i}`;
  return create(ChangeEventSchema, {
    modelUuid: MODEL,
    kind: "unit",
    id: name,
    source: "bench",
    change: {
      case: "entity",
      value: create(EntitySchema, {
        kind: {
          case: "unit",
          value: create(UnitInfoSchema, {
            modelUuid: MODEL,
            name,
            application: name.split("/")[0] as string,
            life: Life.ALIVE,
            workloadStatus: { current: "active", message: "" },
          }),
        },
      }),
    },
  });
}

/** The log as the relay sees it, publishing one append at a time or pipelined. */
function as(log: EventLog, pipelined: boolean): EventLog {
  return {
    append: (subject, data, opts) => log.append(subject, data, opts),
    read: (from, limit) => log.read(from, limit),
    subscribe: (from, opts) => log.subscribe(from, opts),
    lastPerSubject: (filter) => log.lastPerSubject(filter),
    info: () => log.info(),
    close: () => log.close(),
    ordersPipelinedAppends: pipelined,
  };
}

const db = await createTestDatabase();
const nats = await startNatsServer();
const dir = await mkdtemp(join(tmpdir(), "relay-bench-"));
const rows: (string | number)[][] = [];
try {
  let run = 0;
  /** Fills a fresh outbox, then times one relay until it has found the outbox empty. */
  const measure = async (log: EventLog) => {
    const schema = `relay_bench_${++run}`;
    await db.sql.unsafe(eventTablesDdl(schema));
    for (let i = 0; i < EVENTS; i += PER_COMMIT) {
      const events = Array.from({ length: PER_COMMIT }, (_, k) => unitEvent(i + k));
      await db.sql.begin((tx) => writeOutbox(tx, schema, events));
    }
    const before = (await log.info()).lastSeq;
    const start = performance.now();
    const relay = startRelay({ sql: db.sql, schema, log, batchSize: BATCH, pollMs: 50 });
    await relay.drained();
    const seconds = (performance.now() - start) / 1000;
    await relay.stop();
    const stored = (await log.info()).lastSeq - before;
    if (stored !== EVENTS) throw new Error(`${stored} events stored, expected ${EVENTS}`);
    return Math.round(EVENTS / seconds);
  };
  const embedded = await openEmbeddedLog({ dir });
  const stream = testStreamName();
  const natsLog = await openNatsLog({ url: nats.url, stream, namespace: stream });
  // Alternating, twice each, so the load of the shared machine falls on both modes alike.
  const results = new Map<string, number[]>();
  for (let round = 0; round < 2; round++) {
    for (const [name, log, pipelined] of [
      ["embedded log (fsync per flush)", embedded, false],
      ["embedded log (fsync per flush)", embedded, true],
      ["NATS JetStream (file storage)", natsLog, false],
      ["NATS JetStream (file storage)", natsLog, true],
    ] as const) {
      const key = `${name}|${pipelined}`;
      results.set(key, [...(results.get(key) ?? []), await measure(as(log, pipelined))]);
    }
  }
  for (const [key, values] of results) {
    const [name, pipelined] = key.split("|");
    const enabled = name!.startsWith("NATS") ? " (measured, not enabled)" : "";
    rows.push([
      name!,
      pipelined === "true" ? `pipelined${enabled}` : "one append at a time",
      values.join(", "),
    ]);
  }
  await embedded.close();
  await natsLog.close();
  const body = `Command: \`node --import tsx bench/relay.ts\`. Machine: ${machine()}. ${EVENTS} unit events are written
to a fresh outbox (commits of ${PER_COMMIT}), then one relay (batch ${BATCH}) publishes them; events/s = ${EVENTS} / the
time from the relay's start to its finding the outbox empty (reading, publishing and deleting). PostgreSQL and
nats-server are private processes on this machine, which is shared with other work (numbers are noisy); each
mode ran twice, alternating. "Pipelined" sends a batch's appends without waiting for each acknowledgement. The
relay pipelines only logs that declare \`ordersPipelinedAppends\` (the embedded log); on JetStream it still
publishes one append at a time, because a message dropped mid-batch while later ones are stored would, once
retried, be stored after them (the log's order would no longer be the outbox's).

${table(["log", "publishing", "events/s (run 1, run 2)"], rows)}`;
  writeSection("Outbox relay throughput", body);
  console.log(body);
} finally {
  await nats.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
}
