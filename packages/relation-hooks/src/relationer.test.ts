import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { CreatedRelations, RelationCreatedSource } from "./created";
import { HookKind } from "./hook";
import { LiveHookSource } from "./live-source";
import { Relationer } from "./relationer";
import { State } from "./state";
import { readStateDir } from "./state-dir";
import { change, drain, tempDir } from "./testing";

let base: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: base, cleanup } = await tempDir());
});
afterEach(() => cleanup());

function scope(log: string[]) {
  return {
    enter: async () => void log.push("enter"),
    leave: async () => void log.push("leave"),
  };
}

describe("RelationCreatedSource", () => {
  test("created comes first, even before the baseline, and blocks the relation until committed", () => {
    const created = new CreatedRelations();
    const s = new RelationCreatedSource(new LiveHookSource(new State(4)), {
      relationId: 4,
      remoteApplication: "db",
      created,
    });
    assert.deepEqual(s.next(), {
      kind: "relation-created",
      relationId: 4,
      remoteUnit: "",
      remoteApplication: "db",
      changeVersion: 0,
    });
    s.pop();
    s.update(change({ "db/0": 0 }));
    assert.equal(s.empty(), true);
    created.mark(4);
    assert.deepEqual(drain(s), ["relation-joined db/0@0", "relation-changed db/0@0"]);
  });

  test("a relation already marked created gets no created hook", () => {
    const s = new RelationCreatedSource(new LiveHookSource(new State(4)), {
      relationId: 4,
      remoteApplication: "db",
      created: new CreatedRelations([4]),
    });
    assert.equal(s.empty(), true);
  });
});

describe("Relationer", () => {
  test("a relation's life: created, join, changes, dying, broken", async () => {
    const log: string[] = [];
    const created = new CreatedRelations();
    const r = new Relationer({
      stateDir: await readStateDir(base, 4),
      endpointName: "db",
      remoteApplication: "mysql",
      localUnit: "wp/0",
      created,
      scope: scope(log),
    });
    await r.join();
    const ran: string[] = [];
    const runAll = r.queue.run(async (hook) => {
      ran.push(`${r.prepareHook(hook)} ${hook.remoteUnit}`);
      await r.commitHook(hook);
      // Once the join's changed is committed, the relation goes dying.
      if (hook.kind === HookKind.RelationChanged && hook.remoteUnit === "mysql/1")
        await r.setDying({ localUnitDying: true });
    });
    r.queue.update(change({ "mysql/0": 0, "mysql/1": 0 }));
    await runAll;
    assert.deepEqual(ran, [
      "db-relation-created ",
      "db-relation-joined mysql/0",
      "db-relation-changed mysql/0",
      "db-relation-joined mysql/1",
      "db-relation-changed mysql/1",
      "db-relation-departed mysql/0",
      "db-relation-departed mysql/1",
      "db-relation-broken ",
    ]);
    assert.deepEqual(log, ["enter", "leave"]);
    assert.deepEqual(await readdir(base), []);
    assert.equal(created.has(4), false);
  });

  test("implicit relations run no hooks and drop their state when dying", async () => {
    const log: string[] = [];
    const r = new Relationer({
      stateDir: await readStateDir(base, 5),
      endpointName: "juju-info",
      remoteApplication: "wp",
      localUnit: "lg/0",
      implicit: true,
      created: new CreatedRelations(),
      scope: scope(log),
    });
    await r.join();
    r.queue.update(change({ "wp/0": 0 }));
    assert.deepEqual(await readdir(base), ["5"]);
    await r.setDying();
    assert.equal(await r.queue.next(), undefined);
    assert.deepEqual(log, ["enter", "leave"]);
    assert.deepEqual(await readdir(base), []);
  });
});
