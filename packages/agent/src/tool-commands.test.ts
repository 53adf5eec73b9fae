import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { HookContext } from "./hook-context";
import { FakeModel } from "./testing/fake-model";
import { tempDir } from "./testing/helpers";
import { runTool } from "./tool-commands";
import { installTools, ToolServer } from "./tool-server";

function setup(leadership?: HookContext["leadership"]) {
  const model = new FakeModel();
  model.deploy("wordpress", [{ name: "db", role: "requirer" }]);
  model.deploy("mysql", [{ name: "db", role: "provider" }]);
  const rel = model.relate("wordpress:db", "mysql:db");
  model.setUnitSettings(rel.uuid, "mysql/0", { host: "db1", port: "3306" });
  const ctx = new HookContext({
    id: "ctx-1",
    unitName: "wordpress/0",
    api: model.api("wordpress/0"),
    relations: new Map([
      [
        rel.id,
        { id: rel.id, uuid: rel.uuid, endpoint: "db", remoteApplication: "mysql", members: ["mysql/0"] },
      ],
    ]),
    relationId: rel.id,
    remoteUnit: "mysql/0",
    remoteApplication: "mysql",
    ...(leadership ? { leadership } : {}),
  });
  return { model, rel, ctx };
}

describe("hook tools", () => {
  test("relation-get reads the remote unit's settings in Juju's formats", async () => {
    const { ctx } = setup();
    assert.deepEqual(await runTool(ctx, "relation-get", ["host"]), { code: 0, stdout: "db1\n", stderr: "" });
    assert.equal((await runTool(ctx, "relation-get", ["missing"])).stdout, "");
    assert.equal((await runTool(ctx, "relation-get", [])).stdout, 'host: db1\nport: "3306"\n');
    assert.equal(
      (await runTool(ctx, "relation-get", ["--format=json", "-"])).stdout,
      '{"host":"db1","port":"3306"}\n',
    );
    assert.equal((await runTool(ctx, "relation-get", ["-r", "db:0", "port", "mysql/0"])).stdout, "3306\n");
    const bad = await runTool(ctx, "relation-get", ["-r", "db:9", "host"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^ERROR invalid value "9" for option -r/);
  });

  test("relation-set is buffered: visible to this hook, written only by flush", async () => {
    const { model, rel, ctx } = setup();
    assert.equal((await runTool(ctx, "relation-set", ["url=http://wp", "empty="])).code, 0);
    assert.equal((await runTool(ctx, "relation-get", ["url", "wordpress/0"])).stdout, "http://wp\n");
    assert.deepEqual(model.unitSettings(rel.uuid, "wordpress/0"), {});
    await ctx.flush();
    assert.deepEqual(model.unitSettings(rel.uuid, "wordpress/0"), { url: "http://wp" });
    assert.equal((await runTool(ctx, "relation-set", ["novalue"])).code, 2);
  });

  test("relation-ids and relation-list", async () => {
    const { ctx } = setup();
    assert.equal((await runTool(ctx, "relation-ids", [])).stdout, "db:0\n");
    assert.equal((await runTool(ctx, "relation-ids", ["other"])).stdout, "");
    assert.equal((await runTool(ctx, "relation-list", [])).stdout, "mysql/0\n");
    assert.equal((await runTool(ctx, "relation-list", ["--format", "json"])).stdout, '["mysql/0"]\n');
    assert.equal((await runTool(ctx, "relation-list", ["--app"])).stdout, "mysql\n");
  });

  test("leadership tools answer from the context's leadership, or fail without it", async () => {
    const settings: Record<string, string> = { a: "1" };
    const { ctx } = setup({
      isLeader: async () => true,
      term: () => 3,
      leaderSettings: async () => ({ ...settings }),
      writeLeaderSettings: async (s) => void Object.assign(settings, s),
    });
    assert.equal((await runTool(ctx, "is-leader", [])).stdout, "True\n");
    assert.equal((await runTool(ctx, "is-leader", ["--format=json"])).stdout, "true\n");
    assert.equal((await runTool(ctx, "leader-set", ["b=2"])).code, 0);
    assert.equal((await runTool(ctx, "leader-get", ["b"])).stdout, "2\n");
    const none = setup().ctx;
    const res = await runTool(none, "is-leader", []);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /leadership status unknown/);
  });

  test("unknown commands and options are usage errors", async () => {
    const { ctx } = setup();
    assert.equal((await runTool(ctx, "status-get", [])).code, 2);
    assert.equal((await runTool(ctx, "relation-get", ["--bogus"])).code, 2);
  });
});

describe("ToolServer and the hook tool client", () => {
  let base: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: base, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  test("a tool run as a process reaches its hook's context over the socket", async () => {
    const { ctx } = setup();
    const server = new ToolServer();
    const socket = join(base, "s");
    await server.listen(socket);
    await installTools(join(base, "tools"));
    const unregister = server.register(ctx);
    const env = { ...process.env, JUJU_CONTEXT_ID: "ctx-1", JUJU_AGENT_SOCKET_ADDRESS: socket };
    // spawnSync would block the event loop the server answers on; run the tools asynchronously.
    const run = (tool: string, args: string[], extraEnv = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(join(base, "tools", tool), args, { env: { ...env, ...extraEnv } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    try {
      assert.deepEqual(await run("relation-get", ["host"]), { status: 0, stdout: "db1\n", stderr: "" });
      const bad = await run("relation-get", ["-r", "7"]);
      assert.equal(bad.status, 2);
      unregister();
      const gone = await run("relation-list", []);
      assert.equal(gone.status, 1);
      assert.match(gone.stderr, /unknown context/);
      const outside = spawnSync(join(base, "tools", "relation-list"), [], {
        env: { PATH: process.env.PATH },
      });
      assert.equal(outside.status, 2);
    } finally {
      await server.close();
    }
  });
});
