// Drives the `concord` bin, as a child process, against a running all-in-one Concord.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { concord, follow, startTestController, type TestController } from "./testing";

const WORDPRESS = `
name: wordpress
provides:
  website: http
requires:
  db:
    interface: mysql
    limit: 1
peers:
  cluster:
    interface: wp-cluster
`;
const MYSQL = `
name: mysql
provides:
  db:
    interface: mysql
`;

// What status --watch writes before each table on a terminal: cursor home, clear screen.
const REDRAW = "\x1b[H\x1b[2J";

let c: TestController;

before(async () => {
  c = await startTestController();
  writeFileSync(join(c.dataDir, "wordpress.yaml"), WORDPRESS);
  writeFileSync(join(c.dataDir, "mysql.yaml"), MYSQL);
});
after(() => c.destroy());

/** Runs concord and asserts success, returning stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await concord(c, args);
  assert.equal(r.code, 0, `concord ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe("concord against a running controller", () => {
  test("without a model, the command says how to make one", async () => {
    const r = await concord(c, ["status"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR the controller has no model\n.*add-model/);
  });

  test("add-model makes the new model current; models marks it", async () => {
    assert.match(await ok("add-model", "default"), /Added model "default" \(.+\) and made it current/);
    await ok("add-model", "other");
    const out = await ok("models");
    assert.match(out, /^Model\s+UUID\s+Life/);
    assert.match(out, /^other\*\s/m);
    const doc = JSON.parse(await ok("models", "--format", "json"));
    assert.equal(doc["current-model"], "other");
    assert.deepEqual(
      doc.models.map((m: { name: string }) => m.name),
      ["default", "other"],
    );
    assert.match(await ok("switch", "default"), /Current model is now "default"/);
  });

  test("deploy, add-unit, integrate, relations and status", async () => {
    const wp = await ok("deploy", "wordpress", "--endpoints", "wordpress.yaml");
    assert.match(wp, /Deployed "wordpress" in model "default" with endpoints .*db \(requires mysql\)/);
    assert.match(wp, /Added peer relation wordpress:cluster/);
    assert.match(wp, /Added unit wordpress\/0\./);
    await ok("deploy", "mysql", "--endpoints", "mysql.yaml");
    assert.match(await ok("add-unit", "wordpress", "-n", "2"), /wordpress\/1\.\nAdded unit wordpress\/2\./);
    assert.match(
      await ok("integrate", "wordpress", "mysql"),
      /Integrated wordpress:db mysql:db \(relation 1\)/,
    );

    const rels = await ok("relations");
    assert.match(rels, /^Id\s+Provider\s+Requirer\s+Interface\s+Type\s+Status/);
    assert.match(rels, /^1\s+mysql:db\s+wordpress:db\s+mysql\s+regular\s+joining/m);
    assert.match(rels, /^0\s+wordpress:cluster\s+wordpress:cluster\s+wp-cluster\s+peer/m);

    const table = await ok("status");
    assert.match(table, /^Model\s+Controller\s+Revision\ndefault\s+127\.0\.0\.1:\d+\s+\d+/);
    assert.match(table, /^App\s+Status\s+Units\s+Leader\s+Message$/m);
    assert.match(table, /^wordpress\s+\S+\s+3\b/m);
    assert.match(table, /^Unit\s+Workload\s+Agent\s+Meter\s+Message$/m);
    assert.match(table, /^wordpress\/2\b/m);
    assert.match(table, /^Integration provider\s+Requirer\s+Interface\s+Type\s+Status\s+Message$/m);
    assert.match(table, /^mysql:db\s+wordpress:db\s+mysql\s+regular\s+joining/m);

    const doc = JSON.parse(await ok("status", "--format", "json"));
    assert.deepEqual(Object.keys(doc.applications.wordpress.units), [
      "wordpress/0",
      "wordpress/1",
      "wordpress/2",
    ]);
    assert.equal(doc.applications.wordpress.units["wordpress/0"]["meter-status"].code, "NOT SET");
    assert.deepEqual(
      doc.relations.map((r: { key: string; type: string }) => `${r.key} ${r.type}`),
      ["wordpress:cluster peer", "wordpress:db mysql:db regular"],
    );
    assert.match(await ok("status", "--format", "yaml"), /^applications:\n {2}mysql:\n/m);
  });

  test("errors name the kind and a hint, with the documented exit codes", async () => {
    const dup = await concord(c, ["integrate", "wordpress", "mysql"]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^ERROR .*\(RelationAlreadyExists\)\n`concord relations` lists/);
    assert.doesNotMatch(dup.stderr, /\n\s+at /);

    const missing = await concord(c, ["add-unit", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(ApplicationNotFound\)/);

    const usage = await concord(c, ["integrate", "wordpress"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^ERROR missing arguments\nusage: concord integrate/);
    assert.equal((await concord(c, ["deploy", "x", "--bogus"])).code, 2);
    assert.equal((await concord(c, ["deploy", "x", "--endpoints", "absent.yaml"])).code, 2);
    const unknown = await concord(c, ["statu"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /did you mean `concord status`/);

    const unreachable = await concord(c, ["models"], { CONCORD_CONTROLLER: "127.0.0.1:1" });
    assert.equal(unreachable.code, 3);
    assert.match(
      unreachable.stderr,
      /^ERROR cannot reach the controller at 127\.0\.0\.1:1: .*ECONNREFUSED.*\nis the controller running\?/,
    );
    const badToken = await concord(c, ["models"], { CONCORD_TOKEN: "not-a-token" });
    assert.equal(badToken.code, 3);
    assert.match(badToken.stderr, /token/);
  });

  test("token issue signs with the data folder's secret; a unit token is not admin", async () => {
    const token = (await ok("token", "issue", "unit-wordpress-0")).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const denied = await concord(c, ["models"], { CONCORD_TOKEN: token });
    assert.equal(denied.code, 3);
    assert.match(denied.stderr, /unit-wordpress-0 may not list models/);
    const admin = (await ok("token", "issue", "admin")).trim();
    assert.equal((await concord(c, ["models"], { CONCORD_TOKEN: admin })).code, 0);
    assert.equal((await concord(c, ["token", "issue", "root"])).code, 2);
  });

  test("--help lists the commands", async () => {
    const help = await ok("--help");
    assert.match(help, /^Usage: concord <command>/m);
    assert.match(help, /^ {2}status +Show the model's applications, units and relations$/m);
  });

  test("leader and status show the unit that claimed the leadership", async () => {
    const none = JSON.parse(await ok("leader", "mysql", "--format", "json"));
    assert.deepEqual(none, { application: "mysql", leader: "", term: 0 });
    const token = (await ok("token", "issue", "unit-wordpress-1")).trim();
    const agent = createClient(LeadershipService, c.address, { token });
    const modelUuid = JSON.parse(await ok("status", "--format", "json")).model.uuid as string;
    const { term } = await agent.claimLeadership({
      modelUuid,
      application: "wordpress",
      unit: "wordpress/1",
      durationSeconds: 60,
    });
    agent.close();
    assert.match(await ok("leader", "wordpress"), new RegExp(`^wordpress\\s+wordpress/1\\s+${term}$`, "m"));
    // The leadership service publishes the new leader; the multiwatcher carries it to status.
    const watch = follow(c, ["status", "--watch", "--format", "json"]);
    try {
      await watch.until((out) => out.includes('"leader":"wordpress/1"'), "the leader in status");
    } finally {
      await watch.stop();
    }
    assert.match(await ok("status"), /^wordpress\/1\*\s/m);
    const missing = await concord(c, ["leader", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(ApplicationNotFound\)/);
  });

  test("set-meter-status sets a unit's meter status, shown by status", async () => {
    assert.match(
      await ok("set-meter-status", "wordpress/0", "GREEN", "--info", "paid"),
      /Meter status GREEN set for wordpress\/0\./,
    );
    const doc = JSON.parse(await ok("status", "--format", "json"));
    assert.deepEqual(doc.applications.wordpress.units["wordpress/0"]["meter-status"], {
      code: "GREEN",
      info: "paid",
    });
    const table = await ok("status");
    assert.match(table, /^wordpress\/0\s+\S+\s+\S+\s+green\b/m);
    assert.match(table, /^Entity\s+Meter status\s+Message\nwordpress\/0\s+green\s+paid$/m);
    const bad = await concord(c, ["set-meter-status", "wordpress", "PURPLE"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /meter status "PURPLE" not valid \(NotValid\)/);
  });

  test("remove-unit and remove-relation", async () => {
    assert.match(await ok("remove-unit", "wordpress/2"), /Removed unit wordpress\/2\./);
    assert.match(await ok("remove-relation", "wordpress", "mysql"), /Removing relation wordpress mysql/);
    const doc = JSON.parse(await ok("status", "--format", "json"));
    assert.deepEqual(Object.keys(doc.applications.wordpress.units), ["wordpress/0", "wordpress/1"]);
    assert.deepEqual(
      doc.relations.map((r: { key: string }) => r.key),
      ["wordpress:cluster"],
    );
    const peer = await concord(c, ["remove-relation", "0"]);
    assert.equal(peer.code, 1);
    assert.match(peer.stderr, /cannot remove a peer relation/);
  });
});

describe("concord status --watch", () => {
  test("line mode prints each change made by another command, and resumes after the controller restarts", async () => {
    const watch = follow(c, ["status", "--watch", "--format", "json", "-m", "other"]);
    try {
      const lines = () =>
        watch.output
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
      await watch.until(() => lines().length >= 1, "the snapshot");
      assert.deepEqual(lines()[0].applications, {});

      await ok("deploy", "redis", "-m", "other");
      await watch.until(() => lines().some((d) => d.applications.redis?.units["redis/0"]), "redis/0");

      await c.restart();
      await ok("add-unit", "redis", "-m", "other");
      await watch.until(
        () => lines().some((d) => d.applications.redis?.units["redis/1"]),
        "redis/1 after restart",
      );
      assert.match(watch.output, /connection lost \(.*\); resuming from revision \d+ in \d+ ms/);
      const last = lines().at(-1);
      assert.deepEqual(Object.keys(last.applications.redis.units), ["redis/0", "redis/1"]);
    } finally {
      await watch.stop();
    }
  });

  test("in a pseudo-terminal the table is redrawn in place", async () => {
    const watch = follow(c, ["status", "--watch"], true);
    try {
      await watch.until((out) => out.includes("Watching; Ctrl-C to stop."), "the first table");
      assert.ok(watch.output.includes(REDRAW), "cursor home and clear screen");
      assert.doesNotMatch(watch.output, /^mysql:db\s+wordpress:db/m);
      await ok("integrate", "wordpress", "mysql");
      await watch.until((out) => /mysql:db\s+wordpress:db\s+mysql\s+regular/.test(out), "the new relation");
      assert.ok(watch.output.split(REDRAW).length >= 3, "redrawn after the change");
    } finally {
      await watch.stop();
    }
  });
});
