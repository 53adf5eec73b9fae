// `node --import tsx bench/lease-renewal.ts`: leadership renewals through the lease manager on PostgreSQL, with
// the store's fused claim-or-extend (one statement) against the read-then-extend path it replaced (two round
// trips; the manager still takes it for a store without the fused call, so both run from the same code).
import { systemClock } from "@concord/clock";
import { createTestDatabase, migrate } from "@concord/db";
import {
  defaultSecretaries,
  LEADERSHIP_NAMESPACE,
  LeaseManager,
  type LeaseStore,
  migrationsFolder,
  PgLeaseStore,
} from "@concord/leadership";
import { machine, table, writeSection } from "./lib/results";

const APPS = 50;
const ROUNDS = 100;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** The store without its fused call: the manager reads, then extends (the path before the change). */
function readThenExtend(store: PgLeaseStore): LeaseStore {
  return {
    claimLease: store.claimLease.bind(store),
    extendLease: store.extendLease.bind(store),
    revokeLease: store.revokeLease.bind(store),
    leases: store.leases.bind(store),
    leaseGroup: store.leaseGroup.bind(store),
    pinLease: store.pinLease.bind(store),
    unpinLease: store.unpinLease.bind(store),
    pinned: store.pinned.bind(store),
    expireLeases: store.expireLeases.bind(store),
  };
}

interface Measure {
  path: string;
  mode: string;
  renewals: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** One manager with APPS held leases in its own model; `renew` renews one of them and records the latency. */
async function contender(path: string, store: LeaseStore, model: string) {
  const manager = new LeaseManager({
    store,
    clock: systemClock,
    logger: quiet,
    secretaries: defaultSecretaries,
    maxSleepMs: 60_000,
  });
  const leases = manager.bind(LEADERSHIP_NAMESPACE, model);
  const apps = Array.from({ length: APPS }, (_, i) => `app${i}`);
  for (const app of apps) await leases.claim(app, `${app}/0`, 60_000);
  let latencies: number[] = [];
  let busyMs = 0;
  return {
    path,
    apps,
    manager,
    async renew(app: string) {
      const t0 = performance.now();
      await leases.claim(app, `${app}/0`, 60_000);
      latencies.push(performance.now() - t0);
    },
    async timed(work: () => Promise<void>) {
      const t0 = performance.now();
      await work();
      busyMs += performance.now() - t0;
    },
    result(mode: string): Measure {
      const sorted = latencies.sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      const m = {
        path,
        mode,
        renewals: sorted.length,
        perSecond: Math.round(sorted.length / (busyMs / 1000)),
        p50: at(0.5),
        p99: at(0.99),
      };
      latencies = [];
      busyMs = 0;
      return m;
    },
  };
}

const db = await createTestDatabase();
try {
  await migrate(db.sql, { schema: "leadership", folder: migrationsFolder });
  const store = new PgLeaseStore({ sql: db.sql });
  const paths = [
    await contender("read + extend (before)", readThenExtend(store), "before"),
    await contender("claim-or-extend (after)", store, "after"),
  ];
  const results: Measure[] = [];
  // The two paths take turns, renewal by renewal (or batch by batch), so the load of the shared machine falls on
  // both alike.
  for (const mode of ["sequential", `${APPS} concurrent`]) {
    for (let r = 0; r < ROUNDS; r++) {
      for (const app of paths[0]!.apps) {
        for (const p of paths) {
          if (mode === "sequential") await p.timed(() => p.renew(app));
          else if (app === "app0") await p.timed(async () => void (await Promise.all(p.apps.map(p.renew))));
        }
      }
    }
    for (const p of paths) results.push(p.result(mode));
  }
  for (const p of paths) {
    p.manager.kill();
    await p.manager.wait();
  }
  const rows = results.map((m) => [
    m.path,
    m.mode,
    m.renewals,
    m.perSecond,
    m.p50.toFixed(2),
    m.p99.toFixed(2),
  ]);
  const body = `Command: \`node --import tsx bench/lease-renewal.ts\`. Machine: ${machine()}. A LeaseManager over the
PostgreSQL lease store (a private test database on this machine); ${APPS} leases held, each renewed ${ROUNDS} times
by its holder (\`claim\` of a held lease), one after another and ${APPS} at a time. "read + extend" is the path before
the change (the manager reads the lease, then calls ExtendLease: two round trips); "claim-or-extend" is the store's
fused statement (one round trip; only an acquisition takes a transaction).

${table(["path", "mode", "renewals", "renewals/s", "p50 ms", "p99 ms"], rows)}`;
  writeSection("Leadership renewal (lease store)", body);
  console.log(body);
} finally {
  await db.drop();
}
