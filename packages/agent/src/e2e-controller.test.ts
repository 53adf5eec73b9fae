// End to end with Concord itself: the controller process (relation and leadership modules) and a real agent
// whose leader-elected hook uses is-leader, leader-set and leader-get.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@concord/db";
import { createClient, TokenAuthority, unitTag } from "@concord/grpc";
import { leadershipModule } from "@concord/leadership";
import { ApplicationService, ModelService } from "@concord/proto/relation/v1/relation";
import { relationModule } from "@concord/relation";
import { startProcess } from "@concord/runtime";
import { tempDir, waitForLog, writeCharm } from "./testing/helpers";

const AGENT_BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../bin/concord-agent.mjs");

test("against a running controller, a lone unit is elected leader and uses the leadership hook tools", async () => {
  const { path: base, cleanup } = await tempDir("ca-ctl-");
  const db = await createTestDatabase();
  const saved = { ...process.env };
  Object.assign(process.env, {
    CONCORD_DATA: join(base, "controller"),
    DATABASE_URL: db.url,
    CONCORD_ADDR: "127.0.0.1:0",
    CONCORD_METRICS_ADDR: "off",
    CONCORD_TOKEN_SECRET: "agent-e2e-token-secret-0123456789",
    LOG_LEVEL: "warn",
  });
  const concord = await startProcess({
    name: "controller",
    modules: [relationModule, leadershipModule],
    allInOne: true,
    defaultAddress: "127.0.0.1:0",
  });
  let agent: ChildProcess | undefined;
  try {
    const admin = { token: concord.adminToken };
    const models = createClient(ModelService, concord.address, admin);
    const apps = createClient(ApplicationService, concord.address, admin);
    const { model } = await models.createModel({ name: "e2e" });
    const modelUuid = model!.uuid;
    await apps.deployApplication({ modelUuid, name: "redis", endpoints: [] });
    await apps.addUnit({ modelUuid, application: "redis" });
    models.close();
    apps.close();

    const tokens = new TokenAuthority("agent-e2e-token-secret-0123456789");
    await writeFile(join(base, "token"), await tokens.issue(unitTag("redis/0")));
    const log = join(base, "hooks.log");
    await writeCharm(join(base, "charm"), log, ["leader-elected", "leader-settings-changed"], {
      "leader-elected": 'leader-set motd=hi; echo "leader=$(is-leader) motd=$(leader-get motd)"',
    });
    agent = spawn(
      process.execPath,
      [AGENT_BIN, "--controller", concord.address, "--model", modelUuid, "--unit", "redis/0"].concat([
        "--token-file",
        join(base, "token"),
        "--charm-dir",
        join(base, "charm"),
        "--data-dir",
        join(base, "agent"),
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const out = createWriteStream(join(base, "agent.log"));
    agent.stdout!.pipe(out);
    agent.stderr!.pipe(out);
    const lines = await waitForLog(log, (l) => l.length > 0);
    if (!/^redis\/0 leader-elected .* leader=True motd=hi$/.test(lines[0]!))
      assert.fail(`${lines.join("\n")}\nagent log:\n${await readFile(join(base, "agent.log"), "utf8")}`);
  } finally {
    agent?.kill("SIGKILL");
    await concord.stop();
    process.env = saved;
    await db.drop();
    await cleanup();
  }
});
