import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isHookError } from "./errors";
import { newContextId, unitHookEnv } from "./hook-env";
import { MachineLock } from "./machine-lock";
import { runHook } from "./run-hook";

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "run-hook-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh charm dir (with the given hooks) and agent data dir. */
async function charm(hooks: Record<string, string | { body: string; mode: number }>) {
  const base = join(root, `c${n++}`);
  const charmDir = join(base, "charm");
  const dataDir = join(base, "agent");
  await mkdir(join(charmDir, "hooks"), { recursive: true });
  await mkdir(dataDir);
  for (const [name, spec] of Object.entries(hooks)) {
    const { body, mode } = typeof spec === "string" ? { body: spec, mode: 0o755 } : spec;
    const path = join(charmDir, "hooks", name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, mode);
  }
  return { charmDir, dataDir, lock: new MachineLock({ dataDir }) };
}

describe("runHook", () => {
  it("runs the hook with the hook environment and captures its output", async () => {
    const c = await charm({
      "meter-status-changed":
        'echo "$JUJU_UNIT_NAME|$JUJU_METER_STATUS|$JUJU_HOOK_NAME|$JUJU_CHARM_DIR|$CHARM_DIR|$(pwd)"\necho oops >&2\n[ -n "$PATH" ] || exit 9',
    });
    const result = await runHook({
      charmDir: c.charmDir,
      hookName: "meter-status-changed",
      env: { ...unitHookEnv({ unitName: "app/0", modelUUID: "m-1" }), JUJU_METER_STATUS: "GREEN" },
      lock: c.lock,
    });
    assert.equal(result.outcome, "ran");
    assert.ok(result.outcome === "ran");
    assert.equal(
      result.stdout.trim(),
      `app/0|GREEN|meter-status-changed|${c.charmDir}|${c.charmDir}|${c.charmDir}`,
    );
    assert.equal(result.stderr, "oops\n");
    assert.equal(await c.lock.holder(), undefined);
  });

  it("does not leak agent variables outside the inherited list", async () => {
    process.env.CONCORD_SECRET_TEST = "x";
    try {
      const c = await charm({ h: 'echo "[$CONCORD_SECRET_TEST]"' });
      const r = await runHook({ charmDir: c.charmDir, hookName: "h", env: {}, lock: c.lock });
      assert.ok(r.outcome === "ran");
      assert.equal(r.stdout, "[]\n");
    } finally {
      delete process.env.CONCORD_SECRET_TEST;
    }
  });

  it("skips a missing hook", async () => {
    const c = await charm({});
    const r = await runHook({
      charmDir: c.charmDir,
      hookName: "meter-status-changed",
      env: {},
      lock: c.lock,
    });
    assert.deepEqual(r, { outcome: "skipped", hookName: "meter-status-changed", reason: "missing" });
  });

  it("skips a hook that is not executable", async () => {
    const c = await charm({ install: { body: "exit 0", mode: 0o644 } });
    const r = await runHook({ charmDir: c.charmDir, hookName: "install", env: {}, lock: c.lock });
    assert.deepEqual(r, { outcome: "skipped", hookName: "install", reason: "not-executable" });
  });

  it("fails with HookFailed and the exit code on a non-zero exit", async () => {
    const c = await charm({ install: "echo bad >&2; exit 3" });
    await assert.rejects(
      runHook({ charmDir: c.charmDir, hookName: "install", env: {}, lock: c.lock }),
      (err) => {
        assert.ok(isHookError(err, "HookFailed"));
        assert.equal(err.exitCode, 3);
        assert.equal(err.stderr, "bad\n");
        assert.equal(err.message, 'hook "install" failed: exit status 3');
        return true;
      },
    );
    assert.equal(await c.lock.holder(), undefined);
  });

  it("reports a hook killed by a signal as HookKilled", async () => {
    const c = await charm({ install: "kill -KILL $$" });
    await assert.rejects(
      runHook({ charmDir: c.charmDir, hookName: "install", env: {}, lock: c.lock }),
      (err) => {
        assert.ok(isHookError(err, "HookKilled"));
        assert.equal(err.signal, "SIGKILL");
        return true;
      },
    );
  });

  it("kills a hook that outlives timeoutMs", async () => {
    const c = await charm({ install: "sleep 30" });
    await assert.rejects(
      runHook({ charmDir: c.charmDir, hookName: "install", env: {}, lock: c.lock, timeoutMs: 50 }),
      (err) => isHookError(err, "Timeout"),
    );
  });

  it("runs only while holding the machine lock", async () => {
    const c = await charm({ install: 'echo ran >> "$JUJU_CHARM_DIR/../ran"' });
    const mine = await c.lock.acquire({ worker: "test" });
    const hook = runHook({
      charmDir: c.charmDir,
      hookName: "install",
      env: {},
      lock: c.lock,
      lockSpec: { worker: "meterstatus", comment: "install" },
    });
    const after = c.lock.acquire({ worker: "after" });
    await assert.rejects(readFile(join(c.charmDir, "..", "ran"), "utf8"));
    await mine.release();
    const afterHeld = await after;
    assert.equal(await readFile(join(c.charmDir, "..", "ran"), "utf8"), "ran\n");
    assert.equal((await hook).outcome, "ran");
    await afterHeld.release();
  });

  it("does not run the hook when the lock wait is cancelled", async () => {
    const c = await charm({ install: 'echo ran >> "$JUJU_CHARM_DIR/../ran"' });
    const mine = await c.lock.acquire({ worker: "test" });
    const ac = new AbortController();
    const hook = runHook({
      charmDir: c.charmDir,
      hookName: "install",
      env: {},
      lock: c.lock,
      signal: ac.signal,
    });
    ac.abort();
    await assert.rejects(hook, (err) => isHookError(err, "Cancelled"));
    await mine.release();
    await assert.rejects(readFile(join(c.charmDir, "..", "ran"), "utf8"));
  });

  it("rejects a hook name with a path in it", async () => {
    const c = await charm({});
    await assert.rejects(runHook({ charmDir: c.charmDir, hookName: "../x", env: {}, lock: c.lock }), (err) =>
      isHookError(err, "NotValid"),
    );
  });
});

describe("unitHookEnv / newContextId", () => {
  it("exports the CA cert only for a remote socket", () => {
    const local = unitHookEnv({
      unitName: "app/0",
      modelUUID: "u",
      agentSocket: { address: "@sock", network: "unix", caCert: "CA" },
    });
    assert.equal(local.JUJU_AGENT_SOCKET_ADDRESS, "@sock");
    assert.equal(local.JUJU_AGENT_CA_CERT, undefined);
    const remote = unitHookEnv({
      unitName: "app/0",
      modelUUID: "u",
      agentSocket: { address: "10.0.0.1:30000", network: "tcp", caCert: "CA" },
    });
    assert.equal(remote.JUJU_AGENT_CA_CERT, "CA");
  });

  it("builds <unit>-<kind>-<63-bit n>", () => {
    for (let i = 0; i < 50; i++) {
      const id = newContextId("app/0", "meter-status");
      const m = /^app\/0-meter-status-(\d+)$/.exec(id);
      assert.ok(m, id);
      assert.ok(BigInt(m[1]!) < 2n ** 63n);
    }
  });
});
