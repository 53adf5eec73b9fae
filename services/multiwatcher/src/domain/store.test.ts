import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChangeEvent } from "@concord/proto/events/v1/events";
import { type Change, decodeChange } from "./entity";
import { controllerScope } from "./scope";
import { Store } from "./store";
import { names, removeUnit, unit, upsert, uuid0, uuid1 } from "./testing";
import type { Scope } from "./types";

const model0: Scope = { type: "model", modelUUID: uuid0 };

function changes(...events: ChangeEvent[]): Change[] {
  return events.map((e) => {
    const c = decodeChange(e);
    assert.ok(!("invalid" in c));
    return c;
  });
}

describe("Store", () => {
  it("orders a snapshot by last change and ignores identical updates", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0"))), 0);
    s.apply(2, changes(upsert(unit(uuid0, "a/1"))), 0);
    s.apply(3, changes(upsert(unit(uuid0, "a/0", "active"))), 0);
    assert.equal(s.apply(4, changes(upsert(unit(uuid0, "a/0", "active"))), 0), false);
    const w = {};
    const snap = s.snapshot(controllerScope, w);
    assert.deepEqual(names(snap), ["a/1", "a/0"]);
    assert.deepEqual(
      snap.map((d) => d.revision),
      [2, 3],
    );
  });

  it("deletes a removed entity nobody holds at once, and keeps a tombstone for its viewers", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0")), upsert(unit(uuid0, "a/1"))), 0);
    const w = {};
    s.snapshot(controllerScope, w);
    s.apply(2, changes(upsert(unit(uuid0, "a/2"))), 0);
    s.apply(3, changes(removeUnit(uuid0, "a/2"), removeUnit(uuid0, "a/0")), 0);
    assert.equal(s.size, 2, "a/2 was never sent: deleted; a/0 is a tombstone");
    assert.deepEqual(names(s.changesSince(controllerScope, 1, w)), ["-a/0"]);
    assert.equal(s.size, 1, "the last viewer was told: tombstone deleted");
  });

  it("keeps an event's order among deltas of one revision", () => {
    const s = new Store();
    s.apply(
      1,
      changes(upsert(unit(uuid0, "b/0")), upsert(unit(uuid0, "a/0")), upsert(unit(uuid0, "c/0"))),
      0,
    );
    assert.deepEqual(names(s.snapshot(controllerScope, {})), ["b/0", "a/0", "c/0"]);
  });

  it("gives a re-added entity a fresh life even when its value is unchanged; viewers stay", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0", "active"))), 0);
    const w1 = {};
    s.snapshot(controllerScope, w1);
    s.apply(2, changes(removeUnit(uuid0, "a/0")), 0);
    const w2 = {};
    assert.deepEqual(names(s.snapshot(controllerScope, w2)), []);
    s.apply(3, changes(upsert(unit(uuid0, "a/0", "active"))), 0);
    assert.deepEqual(names(s.changesSince(controllerScope, 1, w1)), ["a/0"]);
    assert.deepEqual(names(s.changesSince(controllerScope, 2, w2)), ["a/0"]);
    s.apply(4, changes(removeUnit(uuid0, "a/0")), 0);
    assert.deepEqual(names(s.changesSince(controllerScope, 3, w1)), ["-a/0"]);
    assert.deepEqual(names(s.changesSince(controllerScope, 3, w2)), ["-a/0"]);
    assert.equal(s.size, 0);
  });

  it("makes a model-scoped viewer hold only its model's entities", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0")), upsert(unit(uuid1, "a/0"))), 0);
    s.snapshot(model0, {});
    s.apply(2, changes(removeUnit(uuid1, "a/0")), 0);
    assert.equal(s.size, 1);
  });

  it("release deletes tombstones left without viewers but not live entries", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0")), upsert(unit(uuid0, "a/1"))), 0);
    const w = {};
    s.snapshot(controllerScope, w);
    s.apply(2, changes(removeUnit(uuid0, "a/0")), 0);
    s.release(w);
    assert.equal(s.size, 1);
    s.apply(3, changes(removeUnit(uuid0, "a/1")), 0);
    assert.equal(s.size, 0);
  });

  it("expires tombstones by removal time and returns their viewers", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0")), upsert(unit(uuid0, "a/1"))), 0);
    const w = {};
    s.snapshot(controllerScope, w);
    s.apply(2, changes(removeUnit(uuid0, "a/0")), 100);
    s.apply(3, changes(removeUnit(uuid0, "a/1")), 200);
    assert.equal(s.oldestRemovalTime(), 100);
    assert.deepEqual([...s.expire(150)], [w]);
    assert.equal(s.size, 1);
    assert.equal(s.oldestRemovalTime(), 200);
    s.apply(4, changes(upsert(unit(uuid0, "a/1"))), 250);
    assert.equal(s.oldestRemovalTime(), undefined, "a revived tombstone no longer expires");
    assert.equal(s.expire(1000).size, 0);
  });

  it("resumes with changes after R and removals of what existed at R, in revision order", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0")), upsert(unit(uuid0, "a/1"))), 0);
    s.apply(2, changes(upsert(unit(uuid0, "a/0", "active"))), 0);
    s.apply(3, changes(removeUnit(uuid0, "a/1")), 0);
    s.apply(4, changes(upsert(unit(uuid0, "a/2"))), 0);
    s.apply(5, changes(removeUnit(uuid0, "a/2")), 0);
    s.apply(6, changes(upsert(unit(uuid1, "b/0"))), 0);
    const w = {};
    const deltas = s.resume(model0, 1, w);
    assert.deepEqual(names(deltas), ["a/0", "-a/1"]);
    assert.deepEqual(
      deltas.map((d) => d.revision),
      [2, 3],
    );
    assert.deepEqual(names(s.resume(controllerScope, 3, {})), ["b/0"]);
    s.apply(7, changes(removeUnit(uuid0, "a/0")), 0);
    assert.deepEqual(names(s.changesSince(model0, 6, w)), ["-a/0"], "the resumed viewer holds a/0");
  });

  it("reports a removal on resume when the entity existed at R and was re-added and removed since", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0"))), 0);
    s.apply(2, changes(removeUnit(uuid0, "a/0")), 0);
    s.apply(3, changes(upsert(unit(uuid0, "a/0", "active"))), 0);
    s.apply(4, changes(removeUnit(uuid0, "a/0")), 0);
    const deltas = s.resume(controllerScope, 1, {});
    assert.deepEqual(names(deltas), ["-a/0"]);
    assert.equal(deltas[0]!.revision, 4);
    assert.deepEqual(deltas[0]!.entity, unit(uuid0, "a/0", "active"));
    assert.deepEqual(
      names(s.resume(controllerScope, 2, {})),
      [],
      "created after 2, removed: never mentioned",
    );
  });

  it("forgets history up to the oldest resumable revision", () => {
    const s = new Store();
    s.apply(1, changes(upsert(unit(uuid0, "a/0"))), 0);
    s.apply(2, changes(removeUnit(uuid0, "a/0")), 0);
    assert.equal(s.historyLength, 2);
    s.pruneHistory(1);
    assert.equal(s.historyLength, 1);
  });

  it("loads a snapshot ordered by revision", () => {
    const s = new Store();
    s.load([
      { key: { kind: "unit", modelUUID: uuid0, id: "a/1" }, entity: unit(uuid0, "a/1"), revision: 7 },
      { key: { kind: "unit", modelUUID: uuid0, id: "a/0" }, entity: unit(uuid0, "a/0"), revision: 3 },
    ]);
    assert.deepEqual(names(s.snapshot(controllerScope, {})), ["a/0", "a/1"]);
    assert.deepEqual(names(s.resume(controllerScope, 5, {})), ["a/1"]);
  });
});
