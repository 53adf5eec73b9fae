import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LiveHookSource } from "./live-source";
import { State } from "./state";
import { change, drain } from "./testing";

function source(
  members: Record<string, number> = {},
  changedPending = "",
  applicationMembers = {},
): LiveHookSource {
  return new LiveHookSource(State.from({ relationId: 1, members, changedPending, applicationMembers }));
}

describe("LiveHookSource", () => {
  test("nothing before the baseline, even with a pending changed", () => {
    const s = source({ "u/0": 0 }, "u/0");
    assert.equal(s.empty(), true);
    assert.throws(() => s.next());
    s.update(change({ "u/0": 0 }));
    assert.deepEqual(drain(s), ["relation-changed u/0@0"]);
  });

  test("a baseline with departed units is refused and queues nothing", () => {
    const s = source({ "u/0": 0 });
    assert.throws(
      () => s.update(change({ "u/1": 0 }, ["u/0"])),
      (err: Error & { kind?: string }) => {
        return err.message.startsWith("hook source watcher sent bad event") && err.kind === "NotValid";
      },
    );
    assert.equal(s.empty(), true);
  });

  test("missing members depart in sorted order after an inherited changed, before the baseline", () => {
    const s = source({ "u/9": 1, "u/10": 2, "u/3": 0 }, "u/3");
    s.update(change({ "v/0": 0 }));
    assert.deepEqual(drain(s), [
      "relation-changed u/3@0",
      "relation-departed u/10@2",
      "relation-departed u/3@0",
      "relation-departed u/9@1",
      "relation-joined v/0@0",
      "relation-changed v/0@0",
    ]);
  });

  test("joined carries the newest version and is followed by changed", () => {
    const s = source();
    s.update(change({ "u/0": 1 }));
    s.update(change({ "u/0": 5 }));
    assert.deepEqual(drain(s), ["relation-joined u/0@5", "relation-changed u/0@5"]);
  });

  test("correction 1: a unit whose join was cancelled returns as a new join", () => {
    const s = source();
    s.update(change({ "u/0": 0 }));
    s.update(change({}, ["u/0"]));
    assert.equal(s.empty(), true);
    s.update(change({ "u/0": 0 }));
    assert.deepEqual(drain(s), ["relation-joined u/0@0", "relation-changed u/0@0"]);
  });

  test("correction 2: repeating the seen version keeps an undelivered changed", () => {
    const s = source({ "u/0": 0 });
    s.update(change({ "u/0": 0 }));
    s.update(change({ "u/0": 3 }));
    s.update(change({ "u/0": 3 }));
    assert.deepEqual(drain(s), ["relation-changed u/0@3"]);
  });

  test("correction 2: departing and returning with the pending version restores the changed in place", () => {
    const s = source({ "u/0": 0, "u/1": 0 });
    s.update(change({ "u/0": 0, "u/1": 0 }));
    s.update(change({ "u/0": 3 }));
    s.update(change({ "u/1": 1 }));
    s.update(change({}, ["u/0"]));
    s.update(change({ "u/0": 3 }));
    assert.deepEqual(drain(s), ["relation-changed u/0@3", "relation-changed u/1@1"]);
  });

  test("departure then return with the same version and nothing pending produces nothing", () => {
    const s = source({ "u/0": 4 });
    s.update(change({ "u/0": 4 }));
    s.update(change({}, ["u/0"]));
    s.update(change({ "u/0": 4 }));
    assert.equal(s.empty(), true);
  });

  test("a departed unit is forgotten: a later change is a new join", () => {
    const s = source({ "u/0": 4 });
    s.update(change({}));
    assert.deepEqual(drain(s), ["relation-departed u/0@4"]);
    s.update(change({ "u/0": 4 }));
    assert.deepEqual(drain(s), ["relation-joined u/0@4", "relation-changed u/0@4"]);
  });

  test("unknown departures are ignored", () => {
    const s = source();
    s.update(change({}));
    s.update(change({}, ["u/7"]));
    assert.equal(s.empty(), true);
  });

  test("application changes: unknown at 0 is silent, a change fires, a revert fires too", () => {
    const s = source({}, "", { db: 2 });
    s.update(change({}, [], { db: 2, web: 0 }));
    assert.equal(s.empty(), true);
    s.update(change({ "db/0": 0 }, [], { web: 1 }));
    s.update(change({}, [], { db: 3 }));
    s.update(change({}, [], { db: 2 }));
    assert.deepEqual(drain(s), [
      "relation-changed app:web@1",
      "relation-joined db/0@0",
      "relation-changed db/0@0",
      "relation-changed app:db@2",
    ]);
  });

  test("hook info fields", () => {
    const s = source({ "mysql/0": 1 });
    s.update(change({}));
    assert.deepEqual(s.next(), {
      kind: "relation-departed",
      relationId: 1,
      remoteUnit: "mysql/0",
      remoteApplication: "mysql",
      changeVersion: 1,
      departingUnit: "mysql/0",
    });
  });
});
