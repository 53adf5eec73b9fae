import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { ManualClock } from "@concord/clock";
import { createTestDatabase, migrate, type TestDatabase } from "@concord/db";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import { errorKind } from "../domain/errors";
import { LEADERSHIP_NAMESPACE, type LeaseKey } from "../domain/types";
import { migrationsFolder } from "../module";
import { PgLeaseStore } from "./lease-store";
import { LeaderSettingsStore } from "./settings-store";

let db: TestDatabase;
let n = 0;
/** A key nobody used yet, so tests share one database without interfering. */
const freshKey = (): LeaseKey => ({ namespace: LEADERSHIP_NAMESPACE, modelUUID: "m1", lease: `app${++n}` });
const kindOf = async (p: Promise<unknown>) => p.then(() => "ok", errorKind);

before(async () => {
  db = await createTestDatabase();
  await migrate(db.sql, { schema: "leadership", folder: migrationsFolder });
});
after(async () => {
  await db.drop();
});

describe("PgLeaseStore", () => {
  test("claim, extend, revoke follow the store contract; ErrHeld and ErrInvalid as Juju's SQL store", async () => {
    const clock = new ManualClock(0);
    const store = new PgLeaseStore({ sql: db.sql, testClock: clock });
    const key = freshKey();
    assert.deepEqual(await store.claimLease(key, "a/0", 60_000), { term: 1 });
    assert.equal(await kindOf(store.claimLease(key, "a/0", 60_000)), "ErrHeld");
    assert.equal(await kindOf(store.claimLease(key, "a/1", 60_000)), "ErrHeld");
    assert.equal(await kindOf(store.extendLease(key, "a/1", 60_000)), "ErrInvalid");
    clock.advance(10_000);
    assert.deepEqual(await store.extendLease(key, "a/0", 5_000), { term: 1 });
    const [entry] = await store.leases(key);
    assert.equal(entry?.info.expiryMs, 60_000, "an extend never shortens a lease");
    assert.equal(entry?.info.startMs, 0);
    assert.equal(await kindOf(store.revokeLease(key, "a/1")), "ErrInvalid");
    await store.revokeLease(key, "a/0");
    assert.deepEqual(await store.leases(key), []);
    assert.deepEqual(await store.claimLease(key, "a/1", 60_000), { term: 2 }, "every tenure gets a new term");
  });

  test("expiry follows the store's clock; a pin holds the lease, also when pinned before it was held", async () => {
    const clock = new ManualClock(0);
    const store = new PgLeaseStore({ sql: db.sql, testClock: clock });
    const key = freshKey();
    await store.pinLease(key, "machine-0");
    await store.pinLease(key, "machine-0");
    await store.claimLease(key, "a/0", 10_000);
    clock.advance(20_000);
    await store.expireLeases();
    assert.equal((await store.leases(key))[0]?.info.holder, "a/0");
    assert.equal(await kindOf(store.claimLease(key, "a/1", 10_000)), "ErrHeld");
    const pins = (await store.pinned()).find((p) => p.key.lease === key.lease);
    assert.deepEqual(pins?.entities, ["machine-0"]);
    await store.unpinLease(key, "machine-0");
    assert.deepEqual(await store.leases(key), [], "expired the moment the last pin went");
    assert.equal(await kindOf(store.extendLease(key, "a/0", 10_000)), "ErrInvalid");
    assert.deepEqual(await store.claimLease(key, "a/1", 10_000), { term: 2 });
    clock.advance(9_999);
    assert.equal(
      (await store.leaseGroup(LEADERSHIP_NAMESPACE, "m1")).some((e) => e.key.lease === key.lease),
      true,
    );
    clock.advance(1);
    assert.equal(
      (await store.leaseGroup(LEADERSHIP_NAMESPACE, "m1")).some((e) => e.key.lease === key.lease),
      false,
    );
    await store.expireLeases();
    const [row] = await db.sql`select count(*)::int as n from leadership.lease where name = ${key.lease}`;
    assert.equal(row?.n, 0);
  });

  test("concurrent claims of a free lease: exactly one wins", async () => {
    const store = new PgLeaseStore({ sql: db.sql });
    const key = freshKey();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => kindOf(store.claimLease(key, `a/${i}`, 30_000))),
    );
    assert.equal(results.filter((r) => r === "ok").length, 1);
    assert.equal(results.filter((r) => r === "ErrHeld").length, 7);
    const [term] = await db.sql`select term::int from leadership.lease_term where name = ${key.lease}`;
    assert.equal(term?.term, 1, "a lost race consumes no term");
  });

  test("claim-or-extend: one statement renews, a free key gets a new term and an event, a rival gets ErrHeld", async () => {
    const clock = new ManualClock(0);
    const store = new PgLeaseStore({ sql: db.sql, testClock: clock });
    const key = freshKey();
    const events = async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from leadership.outbox where subject like ${`%.leader.${key.lease}`}`;
      return row?.n;
    };
    assert.deepEqual(await store.claimOrExtendLease(key, "a/0", 10_000), { term: 1 });
    assert.equal(await events(), 1);
    clock.advance(5_000);
    assert.deepEqual(await store.claimOrExtendLease(key, "a/0", 10_000), { term: 1 });
    assert.deepEqual(await store.claimOrExtendLease(key, "a/0", 1_000), { term: 1 });
    assert.equal((await store.leases(key))[0]?.info.expiryMs, 15_000, "renewal never shortens");
    assert.equal(await events(), 1, "a renewal writes no event");
    assert.equal(await kindOf(store.claimOrExtendLease(key, "a/1", 10_000)), "ErrHeld");
    clock.advance(10_000);
    assert.deepEqual(await store.claimOrExtendLease(key, "a/0", 10_000), { term: 2 }, "lapsed: a new tenure");
    await store.pinLease(key, "machine-0");
    clock.advance(20_000);
    assert.deepEqual(await store.claimOrExtendLease(key, "a/0", 10_000), { term: 2 }, "pinned: still held");
    assert.equal(await kindOf(store.claimOrExtendLease(key, "a/1", 10_000)), "ErrHeld");
    assert.equal(await events(), 2);
  });

  test("concurrent claim-or-extends of a free lease: exactly one wins", async () => {
    const store = new PgLeaseStore({ sql: db.sql });
    const key = freshKey();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => kindOf(store.claimOrExtendLease(key, `a/${i}`, 30_000))),
    );
    assert.equal(results.filter((r) => r === "ok").length, 1);
    assert.equal(results.filter((r) => r === "ErrHeld").length, 7);
  });

  test("every change of holder writes a leader event in the same transaction", async () => {
    const clock = new ManualClock(0);
    const store = new PgLeaseStore({ sql: db.sql, testClock: clock });
    const key = freshKey();
    await store.claimLease(key, "a/0", 10_000);
    await store.extendLease(key, "a/0", 10_000);
    await store.revokeLease(key, "a/0");
    await store.claimLease(key, "a/1", 10_000);
    clock.advance(10_000);
    await store.expireLeases();
    const rows = await db.sql<{ payload: Uint8Array }[]>`
      select payload from leadership.outbox where subject like ${`%.leader.${key.lease}`} order by id`;
    const seen = rows.map((r) => {
      const e = fromBinary(ChangeEventSchema, r.payload);
      assert.equal(e.change.case, "entity");
      const l =
        e.change.case === "entity" && e.change.value.kind.case === "leader"
          ? e.change.value.kind.value
          : undefined;
      return `${l?.modelUuid} ${l?.application} ${l?.holder || "-"} ${l?.term}`;
    });
    const app = key.lease;
    assert.deepEqual(seen, [`m1 ${app} a/0 1`, `m1 ${app} - 1`, `m1 ${app} a/1 2`, `m1 ${app} - 2`]);
  });
});

describe("LeaderSettingsStore", () => {
  test("merge is fenced by the live lease and the term; an empty value deletes the key", async () => {
    const clock = new ManualClock(0);
    const store = new PgLeaseStore({ sql: db.sql, testClock: clock });
    const settings = new LeaderSettingsStore(db.sql, store);
    const key = freshKey();
    const changes: number[] = [];
    const unsubscribe = await settings.subscribe("m1", key.lease, () => changes.push(1));
    assert.equal(
      errorKind(await settings.merge("m1", key.lease, "a/0", { x: "1" }).catch((e) => e)),
      "NotLeaderError",
    );
    const { term } = await store.claimLease(key, "a/0", 10_000);
    await settings.merge("m1", key.lease, "a/0", { x: "1", y: "2" }, term);
    await settings.merge("m1", key.lease, "a/0", { y: "", z: "3" });
    assert.deepEqual(await settings.read("m1", key.lease), { settings: { x: "1", z: "3" }, version: 2 });
    await assert.rejects(settings.merge("m1", key.lease, "a/0", { x: "2" }, term + 1), /is not leader/);
    assert.equal(
      errorKind(await settings.merge("m1", key.lease, "a/1", { x: "2" }).catch((e) => e)),
      "NotLeaderError",
    );
    clock.advance(10_000);
    assert.equal(
      errorKind(await settings.merge("m1", key.lease, "a/0", { x: "2" }).catch((e) => e)),
      "NotLeaderError",
    );
    unsubscribe();
    await settings.close();
    assert.ok(changes.length <= 2);
  });
});
