// `node --import tsx bench/streams.ts` (or `npm run -w @concord/bench streams`): the multiwatcher's delta streams.
// A private nats-server (JetStream) and a test database; the multiwatcher runs as its own process from its
// standalone entry point; this process appends change events to the log and reads WatchModel streams. Measures
// commit → delta latency at steady change rates, fan-out of one model's changes to many watchers, and the time
// and memory to serve the first snapshot of a 10,000-entity model. Results: bench/RESULTS.md. About 90 s.
import { type ChildProcess, spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { createTestDatabase, freePort } from "@concord/db";
import { type EventLog, openNatsLog, startNatsServer, subjectFor } from "@concord/events";
import { createClient, TokenAuthority } from "@concord/grpc";
import { ManualClock, Multiwatcher } from "@concord/multiwatcher";
import {
  ApplicationInfoSchema,
  ChangeEventSchema,
  type Entity,
  EntitySchema,
  UnitInfoSchema,
} from "@concord/proto/events/v1/events";
import {
  MultiwatcherService,
  type WatchModelResponse,
  WatchModelResponseSchema,
} from "@concord/proto/multiwatcher/v1/multiwatcher";
import { machine, table, writeSection } from "./lib/results";

const root = fileURLToPath(new URL("..", import.meta.url));
const secret = "bench-streams-secret-0123456789";
const tokens = new TokenAuthority(secret);
const channelOptions = { "grpc.max_receive_message_length": 256 * 1024 * 1024 };
const settings = {
  rates: (process.env.BENCH_RATES ?? "100,500").split(",").map(Number),
  rateSeconds: Number(process.env.BENCH_RATE_SECONDS ?? 10),
  fanOut: (process.env.BENCH_FANOUT ?? "10,100,1000").split(",").map(Number),
  fanOutChanges: Number(process.env.BENCH_FANOUT_CHANGES ?? 100),
  fanOutRate: Number(process.env.BENCH_FANOUT_RATE ?? 20),
  fanOutChannels: Number(process.env.BENCH_FANOUT_CHANNELS ?? 4),
  bigModel: Number(process.env.BENCH_BIG_MODEL ?? 10_000),
};

/** Extra node flags for the multiwatcher process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const nodeArgs = (process.env.BENCH_MW_NODE_ARGS ?? "").split(" ").filter(Boolean);
const uuid = (n: number) => `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
const bigModel = uuid(1);
const latencyModel = uuid(2);
const fanOutModel = uuid(3);

function unitEntity(model: string, name: string, message: string): Entity {
  return create(EntitySchema, {
    kind: {
      case: "unit",
      value: create(UnitInfoSchema, {
        modelUuid: model,
        name,
        application: name.split("/")[0]!,
        workloadStatus: { current: "active", message },
        agentStatus: { current: "idle", message: "" },
      }),
    },
  });
}

function appEntity(model: string, name: string): Entity {
  return create(EntitySchema, {
    kind: {
      case: "application",
      value: create(ApplicationInfoSchema, {
        modelUuid: model,
        name,
        status: { current: "active", message: "" },
      }),
    },
  });
}

async function append(
  log: EventLog,
  model: string,
  kind: string,
  id: string,
  entity: Entity,
): Promise<number> {
  const event = create(ChangeEventSchema, {
    modelUuid: model,
    kind,
    id,
    change: { case: "entity", value: entity },
  });
  return (await log.append(subjectFor(event), toBinary(ChangeEventSchema, event))).seq;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => v.toFixed(2);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** The multiwatcher as its own process; resolves once it serves. */
async function startMultiwatcher(env: Record<string, string>) {
  const port = await freePort();
  const metricsPort = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, "--import", "tsx", "services/multiwatcher/src/main.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        CONCORD_TOKEN_SECRET: secret,
        CONCORD_ADDR: `127.0.0.1:${port}`,
        CONCORD_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => {
      if (out.includes('"msg":"serving"')) resolve();
    });
    child.once("exit", (code) => reject(new Error(`multiwatcher exited with ${code}: ${out}`)));
  });
  return {
    address: `127.0.0.1:${port}`,
    startedAt: started,
    /** The replay's own time, from the process's "store rebuilt" log line. */
    rebuildSeconds: () => Number(/"seconds":([0-9.e-]+)[^\n]*store rebuilt/.exec(out)?.[1] ?? Number.NaN),
    /** CPU seconds (user + system) the process has used. */
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    rssBytes: () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024,
    async metric(name: string): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Median time from applying one event to N waiting domain watchers all being answered, without gRPC. */
async function domainFanOut(watchers: number, changes: number): Promise<number> {
  const mwd = new Multiwatcher({ clock: new ManualClock() });
  mwd.load({ revision: 0, entities: [] });
  const ws = Array.from({ length: watchers }, () => mwd.watchModel(fanOutModel));
  await Promise.all(ws.map((w) => w.next()));
  const times: number[] = [];
  for (let i = 1; i <= changes; i++) {
    const answered = Promise.all(ws.map((w) => w.next()));
    const event = create(ChangeEventSchema, {
      modelUuid: fanOutModel,
      kind: "unit",
      id: `d/${i}`,
      change: { case: "entity", value: unitEntity(fanOutModel, `d/${i}`, "") },
    });
    const t0 = performance.now();
    mwd.applyEvent(i, event);
    await answered;
    times.push(performance.now() - t0);
  }
  mwd.shutdown();
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
}

const loadBefore = loadavg()[0]!;
const nats = await startNatsServer();
const db = await createTestDatabase();
const stream = "BENCH_STREAMS";
const log = await openNatsLog({ url: nats.url, stream });
const token = await tokens.issue("admin");
let mw: Awaited<ReturnType<typeof startMultiwatcher>> | undefined;
const sections: string[] = [];

try {
  // --- 1. The first snapshot of a 10,000-entity model, from a process that rebuilds it from the log. ---
  const apps = Math.max(1, Math.round(settings.bigModel / 100));
  const appendStarted = performance.now();
  const pending: Promise<number>[] = [];
  for (let a = 0; a < apps; a++)
    pending.push(append(log, bigModel, "application", `app${a}`, appEntity(bigModel, `app${a}`)));
  for (let i = 0; i < settings.bigModel - apps; i++) {
    const name = `app${i % apps}/${Math.floor(i / apps)}`;
    pending.push(append(log, bigModel, "unit", name, unitEntity(bigModel, name, "ready")));
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const appendSeconds = (performance.now() - appendStarted) / 1000;
  console.log(`appended ${settings.bigModel} entities in ${appendSeconds.toFixed(1)} s`);

  mw = await startMultiwatcher({ DATABASE_URL: db.url, NATS_URL: nats.url, CONCORD_EVENT_STREAM: stream });
  const client = createClient(MultiwatcherService, mw.address, { token, channelOptions });
  const rssBefore = mw.rssBytes();
  const heapBefore = await mw.metric("nodejs_heap_size_used_bytes");
  const snapshotOf = async () => {
    const t0 = performance.now();
    const it = client.watchModel({ modelUuid: bigModel })[Symbol.asyncIterator]();
    const msg = (await it.next()).value as WatchModelResponse;
    const seconds = (performance.now() - t0) / 1000;
    await it.return?.();
    return { seconds, msg };
  };
  // The first call waits for the replay that started with the process.
  const first = await snapshotOf();
  const readySeconds = (performance.now() - mw.startedAt) / 1000;
  const rssAfter = mw.rssBytes();
  const heapAfter = await mw.metric("nodejs_heap_size_used_bytes");
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push((await snapshotOf()).seconds * 1000);
  warm.sort((a, b) => a - b);
  const bytes = toBinary(WatchModelResponseSchema, first.msg).length;
  console.log(
    `snapshot of ${first.msg.result!.deltas.length} entities: ${bytes} bytes; ready after ${readySeconds.toFixed(2)} s`,
  );
  sections.push(
    [
      `### First snapshot of a ${settings.bigModel.toLocaleString("en")}-entity model`,
      "",
      `${apps} applications and ${settings.bigModel - apps} units (one event each) are appended to the log first (${appendSeconds.toFixed(1)} s); then a fresh multiwatcher process starts, rebuilds its store by replaying the log, and a client opens WatchModel as soon as the process listens.`,
      "",
      table(
        ["measure", "value"],
        [
          [
            "process start → first snapshot received (spawn, TypeScript loading, connections, replay, snapshot)",
            `${readySeconds.toFixed(2)} s`,
          ],
          [
            'replay of the log alone (the process\'s "store rebuilt" log line)',
            `${mw.rebuildSeconds().toFixed(2)} s = ${(settings.bigModel / mw.rebuildSeconds()).toFixed(0)} events/s`,
          ],
          [
            "snapshot of the warm store, request → message received (median of 5)",
            `${ms(percentile(warm, 50))} ms`,
          ],
          ["snapshot message size", `${mib(bytes)} MiB (${first.msg.result!.deltas.length} deltas)`],
          [
            "multiwatcher RSS when listening → after the first snapshot",
            `${mib(rssBefore)} → ${mib(rssAfter)} MiB`,
          ],
          [
            "multiwatcher V8 heap used when listening → after the first snapshot",
            `${mib(heapBefore)} → ${mib(heapAfter)} MiB`,
          ],
        ],
      ),
    ].join("\n"),
  );

  // --- 2. Commit → delta latency at steady change rates, one watcher. ---
  const latencyRows: (string | number)[][] = [];
  for (const rate of settings.rates) {
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    const ac = new AbortController();
    const watch = client
      .watchModel({ modelUuid: latencyModel }, { signal: ac.signal })
      [Symbol.asyncIterator]();
    await watch.next(); // the snapshot
    const total = rate * settings.rateSeconds;
    const reading = (async () => {
      while (latencies.length < total) {
        const r = await watch.next();
        if (r.done) break;
        const now = performance.now();
        for (const d of r.value.result!.deltas) {
          const k = d.entity!.kind;
          if (k.case !== "unit") continue;
          const t0 = sent.get(k.value.workloadStatus!.message);
          if (t0 !== undefined) latencies.push(now - t0);
        }
      }
    })();
    const start = performance.now();
    const serverCpu = mw.cpuSeconds();
    const acks: Promise<number>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Each change touches its own unit, so coalescing never hides a change from the measurement.
      const id = `${rate}-${i}`;
      sent.set(id, performance.now());
      acks.push(
        append(log, latencyModel, "unit", `lat${rate}/${i}`, unitEntity(latencyModel, `lat${rate}/${i}`, id)),
      );
    }
    await Promise.all(acks);
    const achieved = total / ((performance.now() - start) / 1000);
    await Promise.race([reading, new Promise((r) => setTimeout(r, 10_000))]);
    const serverShare = (mw.cpuSeconds() - serverCpu) / ((performance.now() - start) / 1000);
    ac.abort();
    latencies.sort((a, b) => a - b);
    latencyRows.push([
      rate,
      achieved.toFixed(0),
      latencies.length,
      ms(percentile(latencies, 50)),
      ms(percentile(latencies, 99)),
      ms(latencies.at(-1) ?? Number.NaN),
      `${(serverShare * 100).toFixed(0)} %`,
    ]);
    console.log(
      `rate ${rate}/s: p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms`,
    );
  }
  sections.push(
    [
      "### Commit → delta latency",
      "",
      `One WatchModel stream; changes appended to the log at a steady rate for ${settings.rateSeconds} s. Latency = from just before the append (the commit reaching the event log) to the delta's arrival at the client: the JetStream append and acknowledgement, delivery to the multiwatcher's consumer, the queue, applying the event, the waiting watcher's result, the gRPC write and the client's decoding. The outbox relay of a producing service adds its own delay in front of this.`,
      "",
      table(
        ["rate (changes/s)", "achieved", "deltas", "p50 ms", "p99 ms", "max ms", "multiwatcher CPU"],
        latencyRows,
      ),
    ].join("\n"),
  );

  // --- 3. Fan-out: many watchers of one model. ---
  const fanRows: (string | number)[][] = [];
  for (const watchers of settings.fanOut) {
    const clients = Array.from({ length: settings.fanOutChannels }, () =>
      createClient(MultiwatcherService, mw!.address, { token, channelOptions }),
    );
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    const sent = new Map<string, number>();
    const lastArrival = new Map<string, number>();
    const arrivals = new Map<string, number>();
    const streams = Array.from({ length: watchers }, (_, i) =>
      clients[i % clients.length]!.watchModel({ modelUuid: fanOutModel }, { signal: ac.signal })[
        Symbol.asyncIterator
      ](),
    );
    await Promise.all(streams.map((s) => s.next())); // every snapshot
    const expected = settings.fanOutChanges;
    let done!: () => void;
    const allDone = new Promise<void>((r) => (done = r));
    let complete = 0;
    for (const s of streams) {
      void (async () => {
        try {
          for (;;) {
            const r = await s.next();
            if (r.done) return;
            const now = performance.now();
            for (const d of r.value.result!.deltas) {
              const k = d.entity!.kind;
              if (k.case !== "unit") continue;
              const id = k.value.workloadStatus!.message;
              const n = (arrivals.get(id) ?? 0) + 1;
              arrivals.set(id, n);
              if (n === watchers) {
                lastArrival.set(id, now);
                if (++complete === expected) done();
              }
            }
          }
        } catch {
          // cancelled at the end
        }
      })();
    }
    const start = performance.now();
    const serverCpu = mw.cpuSeconds();
    const clientCpu = process.cpuUsage();
    for (let i = 0; i < expected; i++) {
      const due = start + (i * 1000) / settings.fanOutRate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `f${watchers}-${i}`;
      sent.set(id, performance.now());
      await append(
        log,
        fanOutModel,
        "unit",
        `fan${watchers}/${i}`,
        unitEntity(fanOutModel, `fan${watchers}/${i}`, id),
      );
    }
    await Promise.race([allDone, new Promise((r) => setTimeout(r, 20_000))]);
    const elapsed = (performance.now() - start) / 1000;
    const serverShare = (mw.cpuSeconds() - serverCpu) / elapsed;
    const used = process.cpuUsage(clientCpu);
    const clientShare = (used.user + used.system) / 1e6 / elapsed;
    const all = [...lastArrival.entries()].map(([id, t]) => t - sent.get(id)!).sort((a, b) => a - b);
    ac.abort();
    for (const c of clients) c.close();
    const domain = await domainFanOut(watchers, expected);
    fanRows.push([
      watchers,
      ms(domain),
      `${all.length}/${expected}`,
      ms(percentile(all, 50)),
      ms(percentile(all, 99)),
      ms(all.at(-1) ?? Number.NaN),
      ((watchers * settings.fanOutRate) | 0).toLocaleString("en"),
      `${(serverShare * 100).toFixed(0)} %`,
      `${(clientShare * 100).toFixed(0)} %`,
    ]);
    console.log(`fan-out ${watchers}: p50 ${ms(percentile(all, 50))} ms, p99 ${ms(percentile(all, 99))} ms`);
  }
  sections.push(
    [
      "### Fan-out to many watchers of one model",
      "",
      `N WatchModel streams of one model over ${settings.fanOutChannels} client channels (HTTP/2 connections); ${settings.fanOutChanges} changes at ${settings.fanOutRate}/s. Latency = from the append to the moment the **last** of the N watchers has the delta. CPU = share of one core used by the multiwatcher process and by the client process while the changes were sent and delivered. The clients run in the benchmark process, on the same 2 cores as the multiwatcher, so at high N part of the time is the clients' own decoding. "In-process domain" is the same fan-out without gRPC: the time from applying an event to the N watchers' \`next()\` calls having resolved, in one process.`,
      "",
      table(
        [
          "watchers",
          "in-process domain p50 ms",
          "changes seen by all",
          "p50 ms",
          "p99 ms",
          "max ms",
          "deltas/s delivered",
          "multiwatcher CPU",
          "clients' CPU",
        ],
        fanRows,
      ),
    ].join("\n"),
  );
  client.close();

  writeSection(
    "Multiwatcher streams",
    [
      `Command: \`node --import tsx bench/streams.ts\`. Machine: ${machine()}. NATS JetStream (private nats-server, file storage), the multiwatcher as its own process (\`services/multiwatcher/src/main.ts\`), the benchmark's clients and publisher in a third process, all on the same machine. The machine is shared with other work: 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, so tails are noisy.`,
      ...sections,
    ].join("\n\n"),
  );
  console.log("written to bench/RESULTS.md");
} finally {
  await mw?.stop();
  await log.close();
  await nats.stop();
  await db.drop();
}
process.exit(0);
