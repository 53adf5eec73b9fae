import assert from "node:assert/strict";
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { ManualClock, systemClock } from "@concord/clock";
import { MachineLock } from "@concord/hook-runner";
import { FakeModel } from "./testing/fake-model";
import {
  linesOf,
  logLines,
  MemoryLogger,
  relationHooks,
  tempDir,
  waitForLog,
  writeCharm,
} from "./testing/helpers";
import { installTools, ToolServer } from "./tool-server";
import { Uniter, type UniterConfig } from "./uniter";

let base: string;
let cleanup: () => Promise<void>;
let running: { stop(): Promise<void> }[];
beforeEach(async () => {
  ({ path: base, cleanup } = await tempDir());
  running = [];
});
afterEach(async () => {
  for (const r of running) await r.stop();
  await cleanup();
});

interface Started {
  uniter: Uniter;
  logger: MemoryLogger;
  done: Promise<unknown>;
  stop(): Promise<void>;
}

async function startUnit(
  model: FakeModel,
  unit: string,
  options: { charmDir?: string; dataDir?: string } & Partial<UniterConfig> = {},
): Promise<Started> {
  const name = unit.replace("/", "-");
  const dataDir = options.dataDir ?? join(base, name);
  const charmDir = options.charmDir ?? join(base, "charm");
  const toolsDir = join(dataDir, "tools");
  await installTools(toolsDir);
  const tools = new ToolServer();
  const socketPath = join(dataDir, "s");
  await tools.listen(socketPath);
  const logger = new MemoryLogger();
  const uniter = new Uniter({
    unitName: unit,
    modelUuid: "model-uuid",
    charmDir,
    dataDir,
    api: model.api(unit),
    lock: new MachineLock({ dataDir }),
    tools,
    socketPath,
    toolsDir,
    clock: systemClock,
    logger,
    retry: { initialMs: 1, maxMs: 1, factor: 1 },
    ...options,
  });
  const done = uniter.run().catch((err: unknown) => err);
  let stopped: Promise<void> | undefined;
  const started: Started = {
    uniter,
    logger,
    done,
    stop: () =>
      (stopped ??= (async () => {
        uniter.stop();
        await done;
        await tools.close();
      })()),
  };
  running.push(started);
  return started;
}

function deployWordpressMysql(model: FakeModel): void {
  model.deploy("wordpress", [{ name: "db", role: "requirer" }]);
  model.deploy("mysql", [{ name: "db", role: "provider" }]);
}

describe("Uniter", () => {
  test("runs Juju's relation hooks in order on both sides, with settings crossing over", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const log = join(base, "hooks.log");
    await writeCharm(join(base, "charm"), log, relationHooks("db"), {
      "db-relation-joined": 'relation-set "host=$(echo $JUJU_UNIT_NAME | tr / -)"',
      "db-relation-changed": 'echo "host=$(relation-get host)" "list=$(relation-list | tr "\\n" ,)"',
    });
    await startUnit(model, "wordpress/0");
    await startUnit(model, "mysql/0");
    const rel = model.relate("wordpress:db", "mysql:db");
    const id = `db:${rel.id}`;
    let lines = await waitForLog(log, (l) => l.filter((x) => x.includes("db-relation-changed")).length >= 2);
    // Changed runs once per join; further changes may follow when the other side's settings arrive later.
    const settle = (l: string[]) =>
      ["wordpress/0", "mysql/0"].every((u) => linesOf(l, u).some((x) => /changed .* host=\S+/.test(x)));
    lines = await waitForLog(log, settle);
    for (const [unit, remote] of [
      ["wordpress/0", "mysql/0"],
      ["mysql/0", "wordpress/0"],
    ] as const) {
      const mine = linesOf(lines, unit);
      const remoteApp = remote.slice(0, remote.indexOf("/"));
      assert.equal(mine[0], `${unit} db-relation-created remote= app=${remoteApp} departing= id=${id}`);
      assert.equal(
        mine[1],
        `${unit} db-relation-joined remote=${remote} app=${remoteApp} departing= id=${id}`,
      );
      assert.match(
        mine[2]!,
        new RegExp(`^${unit} db-relation-changed remote=${remote} app=${remoteApp} departing= id=${id}`),
      );
      assert.ok(
        mine.some((x) => x.includes(`host=${remote.replace("/", "-")} list=${remote},`)),
        `${unit} saw ${remote}'s settings: ${mine.join("\n")}`,
      );
    }

    model.removeRelation(rel.uuid);
    lines = await waitForLog(log, (l) => l.filter((x) => x.includes("db-relation-broken")).length === 2);
    for (const [unit, remote] of [
      ["wordpress/0", "mysql/0"],
      ["mysql/0", "wordpress/0"],
    ] as const) {
      const mine = linesOf(lines, unit);
      const remoteApp = remote.slice(0, remote.indexOf("/"));
      assert.deepEqual(mine.slice(-2), [
        `${unit} db-relation-departed remote=${remote} app=${remoteApp} departing=${remote} id=${id}`,
        `${unit} db-relation-broken remote= app=${remoteApp} departing= id=${id}`,
      ]);
    }
    // Both left scope, so the relation is gone, and so is each unit's state directory.
    await waitFor(() => model.relation(rel.uuid) === undefined);
    await waitFor(async () => (await readdir(join(base, "wordpress-0", "relations"))).length === 0);
  });

  test("a failed hook is retried and nothing else runs before it succeeds", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const log = join(base, "hooks.log");
    const flag = join(base, "fail-once");
    await writeFile(flag, "");
    await writeCharm(join(base, "charm"), log, relationHooks("db"), {
      "db-relation-joined": `if [ -e ${flag} ]; then rm ${flag}; exit 1; fi; true`,
    });
    const clock = new ManualClock();
    const wp = await startUnit(model, "wordpress/0", {
      clock,
      retry: { initialMs: 1000, maxMs: 1000, factor: 2 },
    });
    const rel = model.relate("wordpress:db", "mysql:db");
    // mysql/0 appears without an agent of its own.
    await model.api("mysql/0").enterScope(rel.uuid);
    await wp.logger.waitFor("hook failed");
    assert.deepEqual(
      linesOf(await waitForLog(log, (l) => l.length >= 1), "wordpress/0").map((l) => l.split(" ")[1]),
      ["db-relation-created"],
    );
    clock.advance(1000);
    const lines = await waitForLog(log, (l) => l.some((x) => x.includes("db-relation-changed")));
    assert.deepEqual(
      lines.map((l) => l.split(" ")[1]),
      ["db-relation-created", "db-relation-joined", "db-relation-changed"],
    );
    assert.equal(wp.logger.entries.filter((e) => e.msg.includes("hook failed")).length, 1);
  });

  test("a restart resumes from the committed state: the hook that was running runs again, nothing is lost", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const log = join(base, "hooks.log");
    const charm1 = join(base, "charm1");
    // The first agent's changed hook never succeeds: it is "running" when the agent goes.
    await writeCharm(charm1, log, relationHooks("db"), { "db-relation-changed": "exit 1" });
    const first = await startUnit(model, "wordpress/0", { charmDir: charm1 });
    const rel = model.relate("wordpress:db", "mysql:db");
    await model.api("mysql/0").enterScope(rel.uuid);
    await first.logger.waitFor("hook failed");
    await first.stop();
    // Meanwhile mysql/1 arrives and mysql/0 leaves.
    await model.api("mysql/1").enterScope(rel.uuid);
    await model.api("mysql/0").leaveScope(rel.uuid);

    const charm2 = join(base, "charm2");
    await writeCharm(charm2, log, relationHooks("db"));
    await startUnit(model, "wordpress/0", { charmDir: charm2 });
    const lines = await waitForLog(log, (l) => l.filter((x) => x.includes("changed")).length >= 2);
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(1, 3).join(" ")),
      [
        "db-relation-created remote=",
        "db-relation-joined remote=mysql/0",
        // The persisted changed-pending is honoured first, then the departure, then the newcomer.
        "db-relation-changed remote=mysql/0",
        "db-relation-departed remote=mysql/0",
        "db-relation-joined remote=mysql/1",
        "db-relation-changed remote=mysql/1",
      ],
    );
  });

  test("relation-set writes are dropped when the hook fails and written when it succeeds", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const log = join(base, "hooks.log");
    const flag = join(base, "fail-once");
    await writeFile(flag, "");
    await writeCharm(join(base, "charm"), log, relationHooks("db"), {
      "db-relation-joined": `relation-set "try=$(cat ${flag} 2>/dev/null && echo 1 || echo 2)"; if [ -e ${flag} ]; then rm ${flag}; exit 1; fi; true`,
    });
    const wp = await startUnit(model, "wordpress/0");
    const rel = model.relate("wordpress:db", "mysql:db");
    await model.api("mysql/0").enterScope(rel.uuid);
    await waitForLog(log, (l) => l.some((x) => x.includes("db-relation-changed")));
    assert.equal(wp.logger.entries.filter((e) => e.msg.includes("hook failed")).length, 1);
    assert.deepEqual(
      model.writes.map((w) => w.write.unit),
      [{ try: "2" }],
    );
    assert.deepEqual(model.unitSettings(rel.uuid, "wordpress/0"), { try: "2" });
  });

  test("state of relations no longer in scope is removed at startup", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const dataDir = join(base, "wordpress-0");
    const stale = join(dataDir, "relations", "77");
    await writeCharm(join(base, "charm"), join(base, "hooks.log"), []);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, "mysql-0"), "change-version: 3\n");
    const wp = await startUnit(model, "wordpress/0", { dataDir });
    await wp.logger.waitFor("removing state of a relation no longer in scope");
    await waitFor(async () => (await readdir(join(dataDir, "relations"))).length === 0);
    await rm(join(dataDir, "relations"), { recursive: true, force: true });
  });

  test("a dying unit departs every member as itself, breaks its relations, leaves scope and ends dead", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    model.deploy("wordpress", [
      { name: "db", role: "requirer" },
      { name: "cluster", role: "peer" },
    ]);
    const log = join(base, "hooks.log");
    await writeCharm(join(base, "charm"), log, [...relationHooks("db"), ...relationHooks("cluster")]);
    const wp = await startUnit(model, "wordpress/0");
    const db = model.relate("wordpress:db", "mysql:db");
    const peers = model.relate("wordpress:cluster");
    for (const unit of ["mysql/1", "mysql/0"]) await model.api(unit).enterScope(db.uuid);
    await model.api("wordpress/1").enterScope(peers.uuid);
    const settled = (l: string[]) =>
      ["mysql/0", "mysql/1", "wordpress/1"].every((u) => l.some((x) => x.includes(`changed remote=${u}`)));
    await waitForLog(log, settled);

    model.removeUnit("wordpress/0");
    assert.equal(await wp.done, "dead");
    const lines = linesOf(await logLines(log), "wordpress/0");
    const dying = lines.slice(lines.findIndex((l) => l.includes("departed")));
    assert.deepEqual(dying, [
      `wordpress/0 db-relation-departed remote=mysql/0 app=mysql departing=wordpress/0 id=db:${db.id}`,
      `wordpress/0 db-relation-departed remote=mysql/1 app=mysql departing=wordpress/0 id=db:${db.id}`,
      `wordpress/0 db-relation-broken remote= app=mysql departing= id=db:${db.id}`,
      `wordpress/0 cluster-relation-departed remote=wordpress/1 app=wordpress departing=wordpress/0 id=cluster:${peers.id}`,
      `wordpress/0 cluster-relation-broken remote= app=wordpress departing= id=cluster:${peers.id}`,
    ]);
    assert.equal(model.unitLife("wordpress/0"), "removed");
    assert.ok(!model.relation(db.uuid)?.unitsInScope.includes("wordpress/0"));
    assert.deepEqual(await readdir(join(base, "wordpress-0", "relations")), []);
    await wp.logger.waitFor("unit is dead: terminating the agent");
  });

  test("a dying unit's agent restarted mid-departure resumes without repeating committed hooks", async () => {
    const model = new FakeModel();
    deployWordpressMysql(model);
    const log = join(base, "hooks.log");
    const charm1 = join(base, "charm1");
    await writeCharm(charm1, log, relationHooks("db"), {
      "db-relation-departed": 'if [ "$JUJU_REMOTE_UNIT" = mysql/1 ]; then exit 1; fi; true',
    });
    const dataDir = join(base, "wordpress-0");
    const first = await startUnit(model, "wordpress/0", { charmDir: charm1, dataDir });
    const rel = model.relate("wordpress:db", "mysql:db");
    for (const unit of ["mysql/0", "mysql/1"]) await model.api(unit).enterScope(rel.uuid);
    await waitForLog(log, (l) => l.filter((x) => x.includes("db-relation-changed")).length === 2);
    model.removeUnit("wordpress/0");
    await first.logger.waitFor("hook failed");
    await first.stop();
    assert.equal(await first.done, "stopped");
    assert.ok(model.relation(rel.uuid)?.unitsInScope.includes("wordpress/0"), "still in scope");

    const charm2 = join(base, "charm2");
    await writeCharm(charm2, log, relationHooks("db"));
    const second = await startUnit(model, "wordpress/0", { charmDir: charm2, dataDir });
    assert.equal(await second.done, "dead");
    const kinds = linesOf(await logLines(log), "wordpress/0").map((l) => l.split(" ").slice(1, 4).join(" "));
    assert.deepEqual(kinds.slice(-3), [
      "db-relation-departed remote=mysql/0 app=mysql",
      "db-relation-departed remote=mysql/1 app=mysql",
      "db-relation-broken remote= app=mysql",
    ]);
    assert.equal(kinds.filter((k) => k.includes("departed remote=mysql/0")).length, 1);
    assert.equal(model.unitLife("wordpress/0"), "removed");

    // Started once more, the agent of a removed unit has nothing to do.
    const third = await startUnit(model, "wordpress/0", { charmDir: charm2, dataDir });
    assert.equal(await third.done, "dead");
    assert.equal(linesOf(await logLines(log), "wordpress/0").length, kinds.length);
  });
});

/** Waits (bounded) until `check` holds, re-checking on the event loop's next turns. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}
