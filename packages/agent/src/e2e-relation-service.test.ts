// End to end against the real relation service (PostgreSQL-backed, as the controller runs it): the scenario
// of testing/e2e-scenario.ts, and a unit removed under its running agent.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type ConcordError, unitTag } from "@concord/grpc";
import {
  ApplicationService,
  EndpointRole,
  ModelService,
  RelationService,
} from "@concord/proto/relation/v1/relation";
import { startTestService } from "@concord/relation/testing";
import { runAgentScenario } from "./testing/e2e-scenario";
import {
  linesOf,
  logLines,
  relationHooks,
  spawnAgent,
  tempDir,
  waitForLog,
  writeCharm,
} from "./testing/helpers";

test("agents against the relation service: Juju's hook order, settings exchange, kill -9", async () => {
  const service = await startTestService();
  try {
    const models = await service.client(ModelService);
    const apps = await service.client(ApplicationService);
    const relations = await service.client(RelationService);
    const { model } = await models.createModel({ name: "e2e" });
    const modelUuid = model!.uuid;
    await apps.deployApplication({
      modelUuid,
      name: "wordpress",
      endpoints: [{ name: "db", role: EndpointRole.REQUIRER, interface: "mysql" }],
    });
    await apps.deployApplication({
      modelUuid,
      name: "mysql",
      endpoints: [{ name: "db", role: EndpointRole.PROVIDER, interface: "mysql" }],
    });
    for (const application of ["wordpress", "wordpress", "mysql"])
      await apps.addUnit({ modelUuid, application });
    await runAgentScenario({
      address: service.address,
      modelUuid,
      unitToken: (unit) => service.tokens.issue(unitTag(unit)),
      async relate() {
        const { relation } = await relations.addRelation({
          modelUuid,
          endpoint1: "wordpress:db",
          endpoint2: "mysql:db",
        });
        return { uuid: relation!.uuid, id: relation!.id };
      },
      async removeRelation(relationUuid) {
        await relations.removeRelation({ modelUuid, relationUuid });
      },
    });
  } finally {
    await service.stop();
  }
});

test("RemoveUnit: the unit's agent departs and breaks as itself, the other side sees it go, the agent exits 0", async () => {
  const service = await startTestService();
  const dir = await tempDir("ca-rm-");
  const agents = new Map<string, ChildProcess>();
  try {
    const models = await service.client(ModelService);
    const apps = await service.client(ApplicationService);
    const relations = await service.client(RelationService);
    const modelUuid = (await models.createModel({ name: "e2e-remove-unit" })).model!.uuid;
    for (const [name, role] of [
      ["wordpress", EndpointRole.REQUIRER],
      ["mysql", EndpointRole.PROVIDER],
    ] as const)
      await apps.deployApplication({
        modelUuid,
        name,
        endpoints: [{ name: "db", role, interface: "mysql" }],
      });
    const units = ["wordpress/0", "wordpress/1", "mysql/0"];
    for (const unit of units) await apps.addUnit({ modelUuid, application: unit.split("/")[0]! });
    const log = join(dir.path, "hooks.log");
    const charmDir = join(dir.path, "charm");
    await writeCharm(charmDir, log, relationHooks("db"));
    for (const unit of units) {
      const token = await service.tokens.issue(unitTag(unit));
      agents.set(
        unit,
        await spawnAgent({ address: service.address, modelUuid, unit, token, charmDir, baseDir: dir.path }),
      );
    }
    const rel = (await relations.addRelation({ modelUuid, endpoint1: "wordpress:db", endpoint2: "mysql:db" }))
      .relation!;
    const id = `db:${rel.id}`;
    const changed = (lines: string[], unit: string, remote: string) =>
      linesOf(lines, unit).some((l) => l.includes(`db-relation-changed remote=${remote}`));
    await waitForLog(
      log,
      (l) =>
        changed(l, "wordpress/0", "mysql/0") &&
        changed(l, "wordpress/1", "mysql/0") &&
        changed(l, "mysql/0", "wordpress/0") &&
        changed(l, "mysql/0", "wordpress/1"),
    );

    const removed = agents.get("wordpress/1")!;
    const exited = new Promise<number | null>((resolve) => removed.once("exit", (code) => resolve(code)));
    await apps.removeUnit({ modelUuid, name: "wordpress/1" });
    const lines = await waitForLog(log, (l) =>
      linesOf(l, "mysql/0").some((x) => x.includes("db-relation-departed remote=wordpress/1")),
    );
    assert.equal(await exited, 0, await readFile(join(dir.path, "wordpress-1.agent.log"), "utf8"));
    agents.delete("wordpress/1");

    // Juju's order for the dying unit: every member departed with itself as the departing unit, then broken.
    const mine = linesOf(await logLines(log), "wordpress/1");
    assert.deepEqual(mine.slice(mine.findIndex((l) => l.includes("departed"))), [
      `wordpress/1 db-relation-departed remote=mysql/0 app=mysql departing=wordpress/1 id=${id}`,
      `wordpress/1 db-relation-broken remote= app=mysql departing= id=${id}`,
    ]);
    assert.equal(
      linesOf(lines, "mysql/0").find((l) => l.includes("departed")),
      `mysql/0 db-relation-departed remote=wordpress/1 app=wordpress departing=wordpress/1 id=${id}`,
    );
    assert.ok(!linesOf(lines, "wordpress/0").some((l) => l.includes("wordpress/1")));
    await assert.rejects(
      apps.getUnit({ modelUuid, name: "wordpress/1" }),
      (e: ConcordError) => e.kind === "UnitNotFound",
    );
    const agentLog = await readFile(join(dir.path, "wordpress-1.agent.log"), "utf8");
    assert.match(agentLog, /unit is dead: agent terminated/);
    assert.doesNotMatch(agentLog, /uniter failed/);
    const left = (await relations.getRelation({ modelUuid, by: { case: "uuid", value: rel.uuid } }))
      .relation!;
    assert.deepEqual(left.unitsInScope, ["mysql/0", "wordpress/0"]);
  } finally {
    for (const child of agents.values()) child.kill("SIGKILL");
    await service.stop();
    await dir.cleanup();
  }
});
