import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, settle } from "@concord/clock";
import { errorKind, LeaseError } from "./errors";
import { LeaseManager } from "./manager";
import { InMemoryLeaseStore } from "./memory-store";
import { LEADERSHIP_NAMESPACE, type LeaseStore, type ManagerConfig } from "./types";
import { defaultSecretaries } from "./validation";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function setup(overrides: Partial<ManagerConfig> & { wrap?: (s: LeaseStore) => LeaseStore } = {}) {
  const clock = new ManualClock(0);
  const inner = new InMemoryLeaseStore(clock);
  const store = overrides.wrap ? overrides.wrap(inner) : inner;
  const manager = new LeaseManager({
    store,
    clock,
    logger: quiet,
    secretaries: defaultSecretaries,
    maxSleepMs: 60_000,
    random: () => 0.5,
    ...overrides,
  });
  return { clock, inner, manager, leases: manager.bind(LEADERSHIP_NAMESPACE, "m1") };
}

/** Observes a promise without awaiting it. */
function watch(p: Promise<unknown>) {
  const state: { done: boolean; error: unknown } = { done: false, error: undefined };
  p.then(
    () => {
      state.done = true;
    },
    (error: unknown) => {
      Object.assign(state, { done: true, error });
    },
  );
  return state;
}

async function kindOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return errorKind(err);
  }
}

/** A store whose listed operations fail with the given errors, in order, before behaving normally. */
function failing(ops: Partial<Record<keyof LeaseStore, unknown[]>>): (s: LeaseStore) => LeaseStore {
  return (inner) =>
    new Proxy(inner, {
      get(target, prop: keyof LeaseStore) {
        const original = target[prop] as ((...a: unknown[]) => Promise<unknown>) | undefined;
        // An optional call the store lacks stays absent, so the manager takes the path the faults are on.
        if (original === undefined) return undefined;
        return async (...args: unknown[]) => {
          const queue = ops[prop];
          if (queue && queue.length > 0) throw queue.shift();
          return original.apply(target, args);
        };
      },
    });
}

describe("LeaseManager claims", () => {
  it("acquires, extends for the holder, denies a rival, and returns terms", async () => {
    const { leases } = setup();
    assert.deepEqual(await leases.claim("redis", "redis/0", 60_000), { term: 1 });
    assert.deepEqual(await leases.claim("redis", "redis/0", 60_000), { term: 1 });
    assert.equal(await kindOf(leases.claim("redis", "redis/1", 60_000)), "ErrClaimDenied");
    assert.deepEqual(await leases.leases(), { redis: "redis/0" });
    assert.deepEqual(await leases.token("redis", "redis/0").check(), { term: 1 });
    assert.equal(await kindOf(leases.token("redis", "redis/1").check()), "ErrNotHeld");
  });

  it("gives a new term to every new tenure", async () => {
    const { clock, leases } = setup();
    await leases.claim("redis", "redis/0", 10_000);
    await clock.advanceSettled(10_000);
    assert.deepEqual(await leases.claim("redis", "redis/0", 10_000), { term: 2 });
    await leases.revoke("redis", "redis/0");
    assert.deepEqual(await leases.claim("redis", "redis/1", 10_000), { term: 3 });
  });

  it("validates names and durations before the store, with Juju's messages", async () => {
    const { leases } = setup();
    const message = async (p: Promise<unknown>) => {
      try {
        await p;
        return "ok";
      } catch (err) {
        assert.equal(errorKind(err), "NotValid");
        return (err as Error).message;
      }
    };
    assert.equal(
      await message(leases.claim("Redis", "redis/0", 1)),
      'cannot claim lease "Redis": not an application name',
    );
    assert.equal(
      await message(leases.claim("redis", "redis-0", 1)),
      'cannot claim lease for holder "redis-0": not a unit name',
    );
    assert.equal(
      await message(leases.claim("redis", "redis/0", 0)),
      "cannot claim lease for 0s: non-positive",
    );
    assert.equal(
      await message(leases.claim("redis", "redis/0", -60_000)),
      "cannot claim lease for -1m0s: non-positive",
    );
    assert.equal(
      await message(leases.token("redis", "x").check()),
      'cannot check holder "x": not a unit name',
    );
    assert.equal(
      await message(leases.token("-", "redis/0").check()),
      'cannot check lease "-": not an application name',
    );
    assert.equal(
      await message(leases.waitUntilExpired("_")),
      'cannot wait for lease "_" expiry: not an application name',
    );
    assert.equal(
      await message(leases.revoke("redis", "")),
      'cannot revoke lease for holder "": not a unit name',
    );
  });

  it("rejects an unknown namespace when binding", () => {
    const { manager } = setup();
    assert.throws(
      () => manager.bind("object-store", "m1"),
      (err) => errorKind(err) === "NotValid",
    );
  });

  it("retries timeouts with backoff, then reports ErrTimeout and stays alive", async () => {
    const timeouts = Array.from({ length: 10 }, () => new LeaseError("ErrTimeout"));
    const { clock, manager, leases } = setup({ wrap: failing({ claimLease: timeouts }) });
    const claim = watch(leases.claim("redis", "redis/0", 60_000));
    await settle();
    assert.equal(claim.done, false);
    // Nine sleeps of 50 ms × 1.6ⁿ (jitter fixed at its midpoint) add up to about 5.6 s.
    await clock.advanceSettled(5_700);
    assert.equal(claim.done, true);
    assert.equal(errorKind(claim.error), "ErrTimeout");
    assert.equal(manager.alive, true);
    assert.deepEqual(await leases.claim("redis", "redis/0", 60_000), { term: 1 });
  });

  it("turns repeated stale reads into a denial", async () => {
    const invalid = Array.from({ length: 10 }, () => new LeaseError("ErrInvalid"));
    const { clock, manager, leases } = setup({ wrap: failing({ claimLease: invalid }) });
    const claim = watch(leases.claim("redis", "redis/0", 60_000));
    await clock.advanceSettled(10_000);
    assert.equal(errorKind(claim.error), "ErrClaimDenied");
    assert.equal(manager.alive, true);
  });

  it("maps a lost insert race (ErrHeld) to a denial without retrying", async () => {
    const { leases } = setup({ wrap: failing({ claimLease: [new LeaseError("ErrHeld")] }) });
    assert.equal(await kindOf(leases.claim("redis", "redis/0", 60_000)), "ErrClaimDenied");
  });

  it("reclaims afresh when a stale read sent the holder to extend a lease that is gone", async () => {
    let stale = false;
    const { clock, leases } = setup({
      wrap: (inner) => ({
        ...bindAll(inner),
        leases: async (filter, signal) => {
          if (!stale) return inner.leases(filter, signal);
          stale = false;
          const key = { namespace: LEADERSHIP_NAMESPACE, modelUUID: "m1", lease: "redis" };
          return [{ key, info: { holder: "redis/0", startMs: 0, expiryMs: 60_000, term: 1 } }];
        },
      }),
    });
    await leases.claim("redis", "redis/0", 60_000);
    await clock.advanceToSettled(100_000);
    stale = true;
    const claim = leases.claim("redis", "redis/0", 60_000);
    await clock.advanceSettled(100);
    assert.deepEqual(await claim, { term: 2 });
  });

  it("dies on any other store error; every caller then gets ErrStopped", async () => {
    const { manager, leases } = setup({ wrap: failing({ claimLease: [new Error("lol borken")] }) });
    const wait = watch(leases.waitUntilExpired("mysql"));
    await leases.claim("mysql", "mysql/0", 60_000).catch(() => undefined);
    assert.equal(await kindOf(leases.claim("redis", "redis/0", 60_000)), "ErrStopped");
    assert.equal(manager.alive, false);
    assert.equal((await manager.wait())?.message, "lol borken");
    assert.equal(errorKind(wait.error), "ErrStopped");
    for (const call of [
      leases.token("redis", "redis/0").check(),
      leases.revoke("redis", "redis/0"),
      leases.pin("redis", "machine-0"),
      leases.unpin("redis", "machine-0"),
      leases.waitUntilExpired("redis"),
    ]) {
      assert.equal(await kindOf(call), "ErrStopped");
    }
  });

  it("lets a second claim finish while the first is still inside the store", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    const { leases } = setup({
      wrap: (inner) => ({
        ...bindAll(inner),
        claimLease: async (...args) => {
          if (first) {
            first = false;
            await gate;
          }
          return inner.claimLease(...args);
        },
      }),
    });
    const slow = watch(leases.claim("redis", "redis/0", 60_000));
    assert.deepEqual(await leases.claim("mysql", "mysql/0", 60_000), { term: 1 });
    assert.equal(slow.done, false);
    release();
    await settle();
    assert.equal(slow.done, true);
  });

  it("gives ErrStopped to a claim still running when the manager stops, after waiting for it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { manager, leases } = setup({
      wrap: (inner) => ({
        ...bindAll(inner),
        claimLease: async (...args) => {
          await gate;
          return inner.claimLease(...args);
        },
      }),
    });
    const claim = watch(leases.claim("redis", "redis/0", 60_000));
    await settle();
    const stopped = watch(manager.stop());
    await settle();
    assert.equal(errorKind(claim.error), "ErrStopped");
    assert.equal(stopped.done, false);
    release();
    await settle();
    assert.equal(stopped.done, true);
  });

  it("stops anyway after the shutdown wait and writes a diagnostic dump", async () => {
    const dumps: string[] = [];
    const { clock, manager, leases } = setup({
      dumpDiagnostics: (d) => dumps.push(d),
      wrap: (inner) => ({ ...bindAll(inner), claimLease: () => new Promise(() => {}) }),
    });
    void leases.claim("redis", "redis/0", 60_000).catch(() => undefined);
    await settle();
    const stopped = watch(manager.stop());
    await clock.advanceSettled(54_999);
    assert.equal(stopped.done, false);
    await clock.advanceSettled(1);
    assert.equal(stopped.done, true);
    assert.match(dumps[0] ?? "", /claim application-leadership\/m1\/redis for redis\/0/);
  });

  it("refuses an invalid configuration at start-up", () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore(clock);
    const base = { store, clock, logger: quiet, secretaries: defaultSecretaries, maxSleepMs: 60_000 };
    assert.throws(() => new LeaseManager({ ...base, maxSleepMs: 0 }), /maxSleepMs not valid/);
    assert.throws(() => new LeaseManager({ ...base, store: undefined as never }), /store not valid/);
    assert.throws(() => new LeaseManager({ ...base, clock: undefined as never }), /clock not valid/);
  });
});

describe("LeaseManager waiters", () => {
  it("releases waiters at once after a revoke, and only those of that lease", async () => {
    const { leases, manager } = setup();
    await leases.claim("redis", "redis/0", 60_000);
    await leases.claim("mysql", "mysql/0", 60_000);
    const other = manager.bind(LEADERSHIP_NAMESPACE, "m2");
    await other.claim("redis", "redis/3", 60_000);
    const w1 = watch(leases.waitUntilExpired("redis"));
    const w2 = watch(leases.waitUntilExpired("redis"));
    const w3 = watch(leases.waitUntilExpired("mysql"));
    const w4 = watch(other.waitUntilExpired("redis"));
    await settle();
    await leases.revoke("redis", "redis/0");
    assert.equal(w1.done && w2.done, true);
    assert.equal(w1.error, undefined);
    assert.equal(w3.done || w4.done, false);
  });

  it("releases a waiter within a second of expiry, never while the lease is held", async () => {
    const { clock, leases } = setup();
    await leases.claim("redis", "redis/0", 60_000);
    const w = watch(leases.waitUntilExpired("redis"));
    await clock.advanceToSettled(59_999);
    assert.equal(w.done, false);
    await clock.advanceToSettled(61_000);
    assert.equal(w.done, true);
    assert.equal(w.error, undefined);
  });

  it("releases a wait that arrives on an absent lease, and signals started", async () => {
    const { leases } = setup();
    let started = false;
    const w = watch(leases.waitUntilExpired("redis", { started: () => (started = true) }));
    await settle();
    assert.equal(started, true);
    assert.equal(w.done, true);
  });

  it("keeps a pinned lease and its waiters until the last unpin", async () => {
    const { clock, leases } = setup();
    await leases.pin("redis", "machine-0");
    await leases.pin("redis", "machine-1");
    await leases.claim("redis", "redis/0", 60_000);
    const w = watch(leases.waitUntilExpired("redis"));
    await clock.advanceToSettled(200_000);
    assert.equal(w.done, false);
    assert.deepEqual(await leases.pinned(), { redis: ["machine-0", "machine-1"] });
    await leases.unpin("redis", "machine-0");
    await clock.advanceSettled(2_000);
    assert.equal(w.done, false);
    await leases.unpin("redis", "machine-1");
    await settle();
    assert.equal(w.done, true);
    assert.deepEqual(await leases.leases(), {});
  });

  it("cancels a wait without touching the lease", async () => {
    const { leases } = setup();
    await leases.claim("redis", "redis/0", 60_000);
    const cancel = new AbortController();
    const w = watch(leases.waitUntilExpired("redis", { signal: cancel.signal }));
    await settle();
    cancel.abort();
    await settle();
    assert.equal(errorKind(w.error), "ErrWaitCancelled");
    assert.deepEqual(await leases.leases(), { redis: "redis/0" });
  });

  it("releases waiters on a lease revoked by another manager (another instance) within a second", async () => {
    const { clock, inner, leases } = setup();
    const peer = new LeaseManager({
      store: inner,
      clock,
      logger: quiet,
      secretaries: defaultSecretaries,
      maxSleepMs: 60_000,
    });
    await leases.claim("redis", "redis/0", 60_000);
    const w = watch(leases.waitUntilExpired("redis"));
    await settle();
    await peer.bind(LEADERSHIP_NAMESPACE, "m1").revoke("redis", "redis/0");
    await clock.advanceSettled(1_000);
    assert.equal(w.done, true);
    await peer.stop();
  });

  it("fails pending waiters with ErrStopped when the manager stops", async () => {
    const { manager, leases } = setup();
    await leases.claim("redis", "redis/0", 60_000);
    const w = watch(leases.waitUntilExpired("redis"));
    await settle();
    await manager.stop();
    assert.equal(errorKind(w.error), "ErrStopped");
    assert.equal(await manager.wait(), undefined);
  });
});

describe("LeaseManager revoke", () => {
  it("succeeds on a missing lease and refuses a non-holder", async () => {
    const { leases } = setup();
    await leases.revoke("redis", "redis/0");
    await leases.claim("redis", "redis/0", 60_000);
    assert.equal(await kindOf(leases.revoke("redis", "redis/1")), "ErrNotHeld");
    assert.deepEqual(await leases.leases(), { redis: "redis/0" });
  });

  it("keeps pins on the key for the next holder", async () => {
    const { clock, leases } = setup();
    await leases.claim("redis", "redis/0", 60_000);
    await leases.pin("redis", "machine-0");
    await leases.revoke("redis", "redis/0");
    await leases.claim("redis", "redis/1", 10_000);
    await clock.advanceSettled(100_000);
    assert.deepEqual(await leases.leases(), { redis: "redis/1" });
  });
});

/** The store's methods bound to it, so a test can override one of them. */
function bindAll(store: LeaseStore): LeaseStore {
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
