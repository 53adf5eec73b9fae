import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applicationChangedHook, HookKind, relationHook, unitHook } from "./hook";
import { State } from "./state";

const { RelationJoined: joined, RelationChanged: changed, RelationDeparted: departed } = HookKind;

function state(members: Record<string, number> | null = { "foo/1": 0 }, changedPending = ""): State {
  return State.from({ relationId: 7, members, changedPending });
}

function rejects(s: State, hook: Parameters<State["validate"]>[0], message: string): void {
  assert.throws(
    () => s.validate(hook),
    (err: Error & { kind?: string }) => err.message === message && err.kind === "NotValid",
  );
}

describe("State.validate", () => {
  test("rule 1: another relation id", () => {
    rejects(
      state(),
      unitHook(changed, 8, "foo/1", 0),
      `inappropriate "relation-changed" for "foo/1": expected relation 7, got relation 8`,
    );
  });

  test("rule 2: removed state refuses everything", () => {
    rejects(
      state(null),
      relationHook(HookKind.RelationBroken, 7, "foo"),
      `inappropriate "relation-broken" for "": relation is broken and cannot be changed further`,
    );
  });

  test("rule 3: broken comes before the changed-pending check", () => {
    rejects(
      state({ "foo/1": 0 }, "foo/1"),
      relationHook(HookKind.RelationBroken, 7, "foo"),
      `inappropriate "relation-broken" for "": cannot run "relation-broken" while units still present`,
    );
    state({}).validate(relationHook(HookKind.RelationBroken, 7, "foo"));
  });

  test("rule 4: only the pending changed may follow a joined", () => {
    const s = state({ "foo/1": 0 }, "foo/1");
    s.validate(unitHook(changed, 7, "foo/1", 3));
    rejects(
      s,
      unitHook(departed, 7, "foo/1", 0),
      `inappropriate "relation-departed" for "foo/1": expected "relation-changed" for "foo/1"`,
    );
    rejects(
      s,
      applicationChangedHook(7, "foo", 1),
      `inappropriate "relation-changed" for "": expected "relation-changed" for "foo/1"`,
    );
  });

  test("rule 5 and 6: application hooks pass, unit hooks need the right membership", () => {
    const s = state();
    s.validate(applicationChangedHook(7, "foo", 1));
    s.validate(relationHook(HookKind.RelationCreated, 7, "foo"));
    rejects(
      s,
      unitHook(joined, 7, "foo/1", 0),
      `inappropriate "relation-joined" for "foo/1": unit already joined`,
    );
    rejects(
      s,
      unitHook(changed, 7, "foo/2", 0),
      `inappropriate "relation-changed" for "foo/2": unit has not joined`,
    );
    s.validate(unitHook(joined, 7, "foo/2", 0));
    s.validate(unitHook(departed, 7, "foo/1", 0));
  });
});

describe("State.apply", () => {
  test("joined sets changed-pending, changed clears it, twice is the same as once", () => {
    const s = state();
    for (let i = 0; i < 2; i++) s.apply(unitHook(joined, 7, "foo/2", 4));
    assert.deepEqual(s.toData(), {
      relationId: 7,
      members: { "foo/1": 0, "foo/2": 4 },
      applicationMembers: {},
      changedPending: "foo/2",
    });
    s.apply(unitHook(changed, 7, "foo/2", 5));
    assert.equal(s.changedPending, "");
    assert.equal(s.members?.get("foo/2"), 5);
  });

  test("departed leaves changed-pending alone; application hooks touch applicationMembers", () => {
    const s = state({ "foo/1": 0 }, "foo/1");
    s.apply(unitHook(departed, 7, "foo/1", 0));
    assert.deepEqual(s.toData().members, {});
    assert.equal(s.changedPending, "foo/1");
    s.apply(applicationChangedHook(7, "foo", 9));
    assert.deepEqual(s.toData().applicationMembers, { foo: 9 });
    s.apply({ ...applicationChangedHook(7, "foo", 9), kind: departed });
    assert.deepEqual(s.toData().applicationMembers, {});
  });

  test("broken removes the state; created changes nothing", () => {
    const s = state({});
    s.apply(relationHook(HookKind.RelationCreated, 7, "foo"));
    assert.deepEqual(s.toData().members, {});
    s.apply(relationHook(HookKind.RelationBroken, 7, "foo"));
    s.apply(relationHook(HookKind.RelationBroken, 7, "foo"));
    assert.equal(s.members, null);
    assert.throws(() => s.apply(unitHook(joined, 7, "foo/1", 0)), /relation state removed/);
  });

  test("clone is independent", () => {
    const s = state();
    const c = s.clone();
    c.apply(unitHook(changed, 7, "foo/1", 3));
    assert.equal(s.members?.get("foo/1"), 0);
  });
});
