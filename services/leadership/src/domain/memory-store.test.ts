import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "@concord/clock";
import { errorKind } from "./errors";
import { InMemoryLeaseStore } from "./memory-store";
import type { LeaseKey } from "./types";

const key: LeaseKey = { namespace: "application-leadership", modelUUID: "m1", lease: "redis" };

async function kindOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return errorKind(err);
  }
}

describe("InMemoryLeaseStore", () => {
  it("claims once; a second claim, even by the holder, is ErrHeld", async () => {
    const store = new InMemoryLeaseStore(new ManualClock(0));
    assert.deepEqual(await store.claimLease(key, "redis/0", 60_000), { term: 1 });
    assert.equal(await kindOf(store.claimLease(key, "redis/0", 60_000)), "ErrHeld");
    assert.equal(await kindOf(store.claimLease(key, "redis/1", 60_000)), "ErrHeld");
  });

  it("never shortens a lease on extend, and keeps the term", async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore(clock);
    await store.claimLease(key, "redis/0", 120_000);
    await clock.advanceSettled(10_000);
    assert.deepEqual(await store.extendLease(key, "redis/0", 5_000), { term: 1 });
    const [entry] = await store.leases(key);
    assert.equal(entry?.info.expiryMs, 120_000);
    assert.equal(await kindOf(store.extendLease(key, "redis/1", 5_000)), "ErrInvalid");
  });

  it("treats an unpinned lease past its expiry as absent, at the expiry instant", async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore(clock);
    await store.claimLease(key, "redis/0", 60_000);
    await clock.advanceToSettled(59_999);
    assert.equal((await store.leases()).length, 1);
    await clock.advanceToSettled(60_000);
    assert.deepEqual(await store.leases(), []);
    assert.equal(await kindOf(store.extendLease(key, "redis/0", 60_000)), "ErrInvalid");
    assert.deepEqual(await store.claimLease(key, "redis/1", 60_000), { term: 2 });
  });

  it("keeps pins on the key: they apply to the next holder and survive revoke", async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore(clock);
    await store.pinLease(key, "machine-0");
    await store.pinLease(key, "machine-0");
    assert.deepEqual(await store.pinned(), [{ key, entities: ["machine-0"] }]);
    await store.claimLease(key, "redis/0", 60_000);
    await clock.advanceToSettled(500_000);
    await store.expireLeases();
    assert.equal((await store.leases(key))[0]?.info.holder, "redis/0");
    await store.unpinLease(key, "machine-0");
    assert.deepEqual(await store.leases(key), []);
    assert.deepEqual(await store.pinned(), []);
    await store.unpinLease(key, "machine-0");
  });

  it("terms grow on every acquisition, across revoke and expiry, and are per key", async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore(clock);
    assert.equal((await store.claimLease(key, "redis/0", 1_000)).term, 1);
    await store.revokeLease(key, "redis/0");
    assert.equal((await store.claimLease(key, "redis/0", 1_000)).term, 2);
    await clock.advanceSettled(1_000);
    assert.equal((await store.claimLease(key, "redis/1", 1_000)).term, 3);
    assert.equal((await store.claimLease({ ...key, modelUUID: "m2" }, "redis/1", 1_000)).term, 1);
  });

  it("revokes only the holder's lease", async () => {
    const store = new InMemoryLeaseStore(new ManualClock(0));
    assert.equal(await kindOf(store.revokeLease(key, "redis/0")), "ErrInvalid");
    await store.claimLease(key, "redis/0", 60_000);
    assert.equal(await kindOf(store.revokeLease(key, "redis/1")), "ErrInvalid");
    await store.revokeLease(key, "redis/0");
    assert.deepEqual(await store.leases(), []);
  });

  it("filters lease groups by namespace and model", async () => {
    const store = new InMemoryLeaseStore(new ManualClock(0));
    await store.claimLease(key, "redis/0", 60_000);
    await store.claimLease({ ...key, modelUUID: "m2" }, "redis/5", 60_000);
    await store.claimLease({ ...key, namespace: "singular-controller" }, "machine-0", 60_000);
    const group = await store.leaseGroup("application-leadership", "m1");
    assert.deepEqual(
      group.map((e) => e.info.holder),
      ["redis/0"],
    );
  });

  it("fails with ErrAborted once the signal fired", async () => {
    const store = new InMemoryLeaseStore(new ManualClock(0));
    const abort = new AbortController();
    abort.abort();
    assert.equal(await kindOf(store.claimLease(key, "redis/0", 1_000, abort.signal)), "ErrAborted");
  });
});
