import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DyingHookSource } from "./dying-source";
import { State } from "./state";
import { change, drain } from "./testing";

describe("DyingHookSource", () => {
  test("pending changed, departs in byte-wise order with committed versions, then broken", () => {
    const state = State.from({
      relationId: 3,
      members: { "u/9": 1, "u/10": 2 },
      changedPending: "u/9",
      applicationMembers: { u: 4 },
    });
    const s = new DyingHookSource(state, { remoteApplication: "u" });
    s.update(change({ "u/11": 0 }));
    assert.deepEqual(drain(s), [
      "relation-changed u/9@1",
      "relation-departed u/10@2",
      "relation-departed u/9@1",
      "relation-broken app:u@0",
    ]);
  });

  test("departingUnit is the local unit when it is dying", () => {
    const state = State.from({ relationId: 3, members: { "db/0": 1 } });
    assert.equal(new DyingHookSource(state).next().departingUnit, "db/0");
    assert.equal(new DyingHookSource(state, { localDepartingUnit: "wp/0" }).next().departingUnit, "wp/0");
  });

  test("a removed state yields nothing", () => {
    assert.equal(new DyingHookSource(State.from({ relationId: 3, members: null })).empty(), true);
  });
});
