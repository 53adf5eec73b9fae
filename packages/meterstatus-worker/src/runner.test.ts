import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MachineLock } from "@concord/hook-runner";
import { newHookRunner } from "./runner";
import { MemoryLogger } from "./testing";

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "ms-runner-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function setup(hookBody?: string) {
  const base = join(root, `r${n++}`);
  const charmDir = join(base, "charm");
  await mkdir(join(charmDir, "hooks"), { recursive: true });
  if (hookBody !== undefined) {
    const hook = join(charmDir, "hooks", "meter-status-changed");
    await writeFile(hook, `#!/bin/sh\n${hookBody}\n`);
    await chmod(hook, 0o755);
  }
  const logger = new MemoryLogger();
  const lock = new MachineLock({ dataDir: base });
  const runner = newHookRunner({ unitName: "app/0", modelUUID: "model-1", charmDir, lock, logger });
  return { base, charmDir, logger, lock, runner };
}

describe("meter-status-changed runner", () => {
  it("passes the meter status, the unit name and a context id", async () => {
    const s = await setup(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      'env | grep -E "^(JUJU_|CHARM_DIR)" | sort > "$CHARM_DIR/../env"; [ "${JUJU_METER_INFO+set}" = set ] || exit 1',
    );
    await s.runner.run("AMBER", "", new AbortController().signal);
    const env = Object.fromEntries(
      (await readFile(join(s.base, "env"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    assert.equal(env.JUJU_METER_STATUS, "AMBER");
    assert.equal(env.JUJU_METER_INFO, "");
    assert.equal(env.JUJU_UNIT_NAME, "app/0");
    assert.equal(env.JUJU_MODEL_UUID, "model-1");
    assert.equal(env.JUJU_CHARM_DIR, s.charmDir);
    assert.equal(env.CHARM_DIR, s.charmDir);
    assert.equal(env.JUJU_HOOK_NAME, "meter-status-changed");
    assert.match(env.JUJU_CONTEXT_ID ?? "", /^app\/0-meter-status-\d+$/);
    assert.deepEqual(
      s.logger.lines.filter((l) => !l.startsWith("debug")),
      [],
    );
  });

  it("logs a missing hook at info and never rejects", async () => {
    const s = await setup();
    await s.runner.run("RED", "x", new AbortController().signal);
    assert.deepEqual(s.logger.lines, ['info skipped "meter-status-changed" hook (missing)']);
  });

  it("logs a failing hook as an error and a killed one as a warning", async () => {
    const failing = await setup("exit 2");
    await failing.runner.run("RED", "x", new AbortController().signal);
    assert.match(
      failing.logger.lines.join("\n"),
      /^error error running "meter-status-changed" hook: .*exit status 2/,
    );
    const killed = await setup("kill -TERM $$");
    await killed.runner.run("RED", "x", new AbortController().signal);
    assert.match(killed.logger.lines.join("\n"), /^warn hook "meter-status-changed" was terminated/);
  });

  it("does not run the hook when the lock wait is cancelled, and logs it", async () => {
    const s = await setup('touch "$CHARM_DIR/../ran"');
    const held = await s.lock.acquire({ worker: "uniter" });
    const ac = new AbortController();
    const run = s.runner.run("RED", "x", ac.signal);
    ac.abort();
    await run;
    await held.release();
    await assert.rejects(readFile(join(s.base, "ran")));
    assert.match(
      s.logger.lines.join("\n"),
      /^error hook "meter-status-changed" not run: could not acquire machine lock/,
    );
  });

  it("takes the machine lock as worker meterstatus", async () => {
    const s = await setup('cat "$CHARM_DIR/../machine-lock" > "$CHARM_DIR/../holder"');
    await s.runner.run("GREEN", "", new AbortController().signal);
    const holder = JSON.parse(await readFile(join(s.base, "holder"), "utf8"));
    assert.equal(holder.worker, "meterstatus");
    assert.equal(holder.comment, "meter-status-changed");
  });
});
