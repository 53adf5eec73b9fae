// The end-to-end scenario: real concord-agent processes for two related applications, shell-script hooks
// that log what they see and use relation-get / relation-set, and one agent killed (SIGKILL) mid-hook and
// started again. Run against the fake relation service and against the real one. Not part of the public API.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { linesOf, relationHooks, spawnAgent, tempDir, waitForLog, writeCharm } from "./helpers";

/**
 * The controller the scenario runs against, with applications wordpress (endpoint db, requirer, units
 * wordpress/0 and wordpress/1) and mysql (db, provider, unit mysql/0) deployed.
 */
export interface ScenarioController {
  address: string;
  modelUuid: string;
  /** A bearer token of the unit's agent. */
  unitToken(unit: string): Promise<string>;
  /** Relates wordpress:db with mysql:db; resolves with the relation's UUID and id. */
  relate(): Promise<{ uuid: string; id: number }>;
  /** Removes the relation (alive → dying). */
  removeRelation(uuid: string): Promise<void>;
}

let base: string;
let controller: ScenarioController;
const agents = new Map<string, ChildProcess>();

async function startAgent(unit: string, charmDir: string): Promise<ChildProcess> {
  const token = await controller.unitToken(unit);
  const child = await spawnAgent({ ...controller, unit, token, charmDir, baseDir: base });
  agents.set(unit, child);
  return child;
}

async function kill(unit: string): Promise<void> {
  const child = agents.get(unit)!;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  agents.delete(unit);
}

// The blocked hook of the killed agent outlives it (its own process group): end it.
async function killBlockedHook(): Promise<void> {
  const pid = Number(await readFile(join(base, "blocked.pid"), "utf8"));
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

const kinds = (lines: string[]) => lines.map((l) => l.split(" ").slice(1, 3).join(" "));

/** Runs the scenario against `target`; every agent it started is killed at the end. */
export async function runAgentScenario(target: ScenarioController): Promise<void> {
  controller = target;
  const dir = await tempDir("ca-e2e-");
  base = dir.path;
  try {
    await scenario();
  } finally {
    for (const child of agents.values()) child.kill("SIGKILL");
    agents.clear();
    await killBlockedHook().catch(() => {});
    await dir.cleanup();
  }
}

async function scenario(): Promise<void> {
  const log = join(base, "hooks.log");

  const wordpressCharm = join(base, "charm-wordpress");
  await writeCharm(wordpressCharm, log, relationHooks("db"), {
    "db-relation-joined": 'relation-set "url=http://$(echo $JUJU_UNIT_NAME | tr / -)"',
    "db-relation-changed": 'echo "host=$(relation-get host)"',
  });
  const mysqlCharm = join(base, "charm-mysql");
  const blocked = join(base, "blocked");
  await writeCharm(mysqlCharm, log, relationHooks("db"), {
    "db-relation-joined": 'relation-set "host=$(echo $JUJU_UNIT_NAME | tr / -)"',
    // The first changed hook blocks until killed: the agent dies while it runs.
    "db-relation-changed": [
      `if [ ! -e ${blocked} ]; then touch ${blocked}; echo $$ > ${join(base, "blocked.pid")};`,
      `echo "$JUJU_UNIT_NAME BLOCKED $JUJU_HOOK_NAME" >> ${log}; sleep 600; fi;`,
      'echo "url=$(relation-get url)"',
    ].join(" "),
  });

  await startAgent("wordpress/0", wordpressCharm);
  await startAgent("mysql/0", mysqlCharm);
  const rel = await controller.relate();

  // wordpress/0 sees mysql/0's relation-set in a relation-changed.
  let lines = await waitForLog(log, (l) =>
    linesOf(l, "wordpress/0").some(
      (x) => x.includes("db-relation-changed remote=mysql/0") && x.endsWith("host=mysql-0"),
    ),
  );
  // mysql/0 is blocked in its first relation-changed: kill its agent there.
  lines = await waitForLog(log, (l) => l.includes("mysql/0 BLOCKED db-relation-changed"));
  await kill("mysql/0");
  await killBlockedHook();

  // While mysql/0's agent is down, wordpress/1 arrives.
  await startAgent("wordpress/1", wordpressCharm);
  await waitForLog(log, (l) => linesOf(l, "wordpress/1").some((x) => x.includes("db-relation-joined")));

  await startAgent("mysql/0", mysqlCharm);
  lines = await waitForLog(log, (l) => {
    const m = linesOf(l, "mysql/0");
    return m.some(
      (x) => x.includes("db-relation-changed remote=wordpress/1") && x.endsWith("url=http://wordpress-1"),
    );
  });

  const mysql = linesOf(lines, "mysql/0");
  // Nothing lost, and only the hook that was running repeats.
  assert.deepEqual(kinds(mysql).slice(0, 6), [
    "db-relation-created remote=",
    "db-relation-joined remote=wordpress/0",
    "BLOCKED db-relation-changed",
    "db-relation-changed remote=wordpress/0",
    "db-relation-joined remote=wordpress/1",
    "db-relation-changed remote=wordpress/1",
  ]);
  assert.ok(mysql[3]!.endsWith("url=http://wordpress-0"), mysql[3]);
  assert.equal(kinds(mysql).filter((k) => k.startsWith("db-relation-joined")).length, 2);
  assert.equal(kinds(mysql).filter((k) => k.startsWith("db-relation-created")).length, 1);
  for (const unit of ["wordpress/0", "wordpress/1"]) {
    const mine = kinds(linesOf(lines, unit));
    assert.deepEqual(mine.slice(0, 3), [
      "db-relation-created remote=",
      "db-relation-joined remote=mysql/0",
      "db-relation-changed remote=mysql/0",
    ]);
  }

  // Removing the relation: each side departs its remote units (sorted), then relation-broken, last.
  await controller.removeRelation(rel.uuid);
  lines = await waitForLog(log, (l) => l.filter((x) => x.includes("db-relation-broken")).length === 3);
  if (process.env.AGENT_TEST_LOG) console.log(lines.join("\n"));
  const tail = (unit: string) =>
    kinds(linesOf(lines, unit)).filter((k) => !k.startsWith("db-relation-changed"));
  assert.deepEqual(tail("mysql/0").slice(-3), [
    "db-relation-departed remote=wordpress/0",
    "db-relation-departed remote=wordpress/1",
    "db-relation-broken remote=",
  ]);
  for (const unit of ["wordpress/0", "wordpress/1"]) {
    assert.deepEqual(tail(unit).slice(-2), [
      "db-relation-departed remote=mysql/0",
      "db-relation-broken remote=",
    ]);
    assert.equal(kinds(linesOf(lines, unit)).at(-1), "db-relation-broken remote=");
  }
  assert.equal(kinds(linesOf(lines, "mysql/0")).at(-1), "db-relation-broken remote=");
  assert.match(
    linesOf(lines, "mysql/0").find((l) => l.includes("departed remote=wordpress/0"))!,
    new RegExp(`departing=wordpress/0 id=db:${rel.id}$`),
  );
}
