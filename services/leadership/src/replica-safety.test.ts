// Safety under concurrency (spec §3.1, §13): three service processes on one PostgreSQL never grant overlapping
// leadership. Many units claim, renew, let lapse and revoke the same applications through random replicas,
// with short leases: the processes run with CONCORD_LEADERSHIP_TEST_MIN_CLAIM_MS=100, a test-only setting that
// lowers the API's 5 s minimum (expiry still follows the database's own clock). Every granted interval is
// recorded as the claimant may rely on it: from the moment the claim returned to the start of the call plus its
// duration (the contract of §3.2). Tenures (one term each) of one application must not overlap, and terms must
// follow one another in time. The run is bounded: a fixed number of seconds of load, then a clean stop.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, migrate, type TestDatabase } from "@concord/db";
import { startNatsServer, type TestNatsServer } from "@concord/events";
import { type Client, ConcordError, createClient, TokenAuthority, unitTag } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import * as grpc from "@grpc/grpc-js";
import { leadershipModule, MIN_CLAIM_ENV } from "./module";

const REPLICAS = 3;
const APPS = 5;
const UNITS_PER_APP = 4;
const LOAD_MS = 10_000;
const MODEL = "stress-model";
const SECRET = "replica-safety-secret-0123456789";
const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

interface Grant {
  app: string;
  unit: string;
  term: number;
  /** When the claim returned: the claimant knows it leads from here. */
  from: number;
  /** Start of the call + duration: the end of what the claim guarantees. */
  until: number;
}

let db: TestDatabase;
// A private NATS server: a standalone process uses the default subjects, which the shared test server's
// streams may already claim.
let nats: TestNatsServer;
const processes: ChildProcess[] = [];
const addresses: string[] = [];

async function startReplica(natsUrl: string): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      CONCORD_TOKEN_SECRET: SECRET,
      CONCORD_ADDR: `127.0.0.1:${port}`,
      CONCORD_METRICS_ADDR: "off",
      CONCORD_SHUTDOWN_GRACE_MS: "2000",
      [MIN_CLAIM_ENV]: "100",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  processes.push(child);
  const address = `127.0.0.1:${port}`;
  // grpc-js waits for the channel to connect: no polling loop needed.
  const probe = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`replica on ${address} exited with ${code}`)));
      probe.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    probe.close();
  }
  addresses.push(address);
}

before(async () => {
  db = await createTestDatabase();
  await migrate(db.sql, leadershipModule.migrations!);
  nats = await startNatsServer();
  await Promise.all(Array.from({ length: REPLICAS }, () => startReplica(nats.url)));
});

after(async () => {
  await Promise.all(
    processes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  await nats?.stop();
  await db.drop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (lo: number, hi: number) => Math.round(lo + Math.random() * (hi - lo));

test("three replicas never grant overlapping leadership", { timeout: 60_000 }, async () => {
  const tokens = new TokenAuthority(SECRET);
  const clients = new Map<string, Client<typeof LeadershipService>[]>();
  const clientsOf = async (tag: string) => {
    let list = clients.get(tag);
    if (!list) {
      const token = await tokens.issue(tag);
      list = addresses.map((address) => createClient(LeadershipService, address, { token }));
      clients.set(tag, list);
    }
    return list;
  };
  const grants: Grant[] = [];
  /** Per (app, term): when the holder gave the lease up by revoking it (its guarantee ends there). */
  const revokedAt = new Map<string, number>();
  const served = new Array<number>(REPLICAS).fill(0);
  let denials = 0;
  const deadline = Date.now() + LOAD_MS;

  const unitLoop = async (app: string, unit: string) => {
    const mine = await clientsOf(unitTag(unit));
    const admin = await clientsOf("admin");
    let term: number | undefined;
    let until = 0;
    while (Date.now() < deadline) {
      const replica = Math.floor(Math.random() * REPLICAS);
      const duration = between(200, 500);
      const start = Date.now();
      try {
        const res = await mine[replica]!.claimLeadership({
          modelUuid: MODEL,
          application: app,
          unit,
          durationSeconds: duration / 1000,
        });
        term = Number(res.term);
        until = start + duration;
        served[replica]!++;
        grants.push({ app, unit, term, from: Date.now(), until });
      } catch (err) {
        if (!(err instanceof ConcordError) || err.kind !== "ErrClaimDenied") throw err;
        denials++;
        term = undefined;
        await pause(between(20, 120));
        continue;
      }
      const roll = Math.random();
      if (roll < 0.1) {
        // Hand over at once, as a removed unit does.
        revokedAt.set(`${app}#${term}`, Date.now());
        await pick(admin)
          .revokeLeadership({ modelUuid: MODEL, application: app, unit })
          .catch((err: unknown) => {
            // On a loaded machine the short lease may already have gone to a rival.
            if (!(err instanceof ConcordError) || err.kind !== "ErrClaimNotHeld") throw err;
          });
        await pause(between(50, 200));
      } else if (roll < 0.25) {
        // Stop renewing and let the lease lapse (a partitioned or stopped agent).
        await pause(Math.max(0, until - Date.now()) + between(0, 200));
      } else {
        // Renew halfway through, as the tracker does.
        await pause(Math.max(0, start + duration / 2 - Date.now()));
      }
    }
  };

  const loops: Promise<void>[] = [];
  for (let a = 0; a < APPS; a++) {
    for (let u = 0; u < UNITS_PER_APP; u++) loops.push(unitLoop(`app${a}`, `app${a}/${u}`));
  }
  await Promise.all(loops);
  for (const list of clients.values()) for (const c of list) c.close();

  // One tenure per (application, term): one holder, from its first grant to the end of its last guarantee.
  const tenures = new Map<string, { app: string; unit: string; term: number; from: number; until: number }>();
  for (const g of grants) {
    const id = `${g.app}#${g.term}`;
    const t = tenures.get(id);
    if (!t) tenures.set(id, { ...g });
    else {
      assert.equal(t.unit, g.unit, `term ${g.term} of ${g.app} granted to ${t.unit} and ${g.unit}`);
      t.from = Math.min(t.from, g.from);
      t.until = Math.max(t.until, g.until);
    }
  }
  for (const [id, at] of revokedAt) {
    const t = tenures.get(id);
    if (t) t.until = Math.min(t.until, at);
  }
  console.log(
    `replica safety: ${grants.length} grants in ${tenures.size} tenures, ${denials} denials, ${revokedAt.size} revokes; per replica ${served.join("/")}`,
  );
  for (let a = 0; a < APPS; a++) {
    const list = [...tenures.values()].filter((t) => t.app === `app${a}`).sort((x, y) => x.term - y.term);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const next = list[i]!;
      assert.ok(
        prev.until <= next.from,
        `${next.app}: term ${prev.term} (${prev.unit}) guaranteed until ${prev.until}, ` +
          `but term ${next.term} (${next.unit}) granted at ${next.from}`,
      );
    }
  }
  // The run must have exercised what it claims to: many handovers, denials, and every replica.
  assert.ok(tenures.size >= APPS * 5, `only ${tenures.size} tenures`);
  assert.ok(denials >= 50, `only ${denials} denials`);
  for (const [i, n] of served.entries()) assert.ok(n >= 20, `replica ${i} granted only ${n} claims`);
});
