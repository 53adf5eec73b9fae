import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { ManualClock, systemClock } from "@concord/clock";
import { MachineLock } from "@concord/hook-runner";
import { LeadershipError } from "@concord/leadership-tracker";
import { AgentLeadership, type LeadershipBackend } from "./leadership";
import { FakeModel } from "./testing/fake-model";
import { MemoryLogger, tempDir, waitForLog, writeCharm } from "./testing/helpers";
import { installTools, ToolServer } from "./tool-server";
import { Uniter } from "./uniter";

let base: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: base, cleanup } = await tempDir());
});
afterEach(() => cleanup());

function backend(leader: boolean, settings: Record<string, string>): LeadershipBackend {
  return {
    claimer: {
      async claimLeadership() {
        if (!leader) throw new LeadershipError("ErrClaimDenied");
        return { term: 7 };
      },
      blockUntilLeadershipReleased: (_app, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new LeadershipError("ErrBlockCancelled"))),
        ),
    },
    settings: {
      read: async () => ({ ...settings }),
      merge: async (_app, _unit, s) => void Object.assign(settings, s),
    },
    async *watchLeaderSettings(_app, signal) {
      yield undefined;
      await new Promise((r) => signal.addEventListener("abort", r));
    },
  };
}

async function runWithLeadership(leader: boolean): Promise<string[]> {
  const settings = { motd: "hello" };
  const logger = new MemoryLogger();
  const leadership = new AgentLeadership({
    backend: backend(leader, settings),
    unitName: "redis/0",
    clock: new ManualClock(),
    logger,
    guaranteeMs: 30_000,
  });
  const log = join(base, "hooks.log");
  await writeCharm(join(base, "charm"), log, ["leader-elected", "leader-settings-changed"], {
    "leader-elected": 'leader-set motd=elected; echo "leader=$(is-leader) motd=$(leader-get motd)"',
    "leader-settings-changed": 'echo "leader=$(is-leader) motd=$(leader-get motd)"',
  });
  const dataDir = join(base, "redis-0");
  await installTools(join(dataDir, "tools"));
  const tools = new ToolServer();
  await tools.listen(join(dataDir, "s"));
  const model = new FakeModel();
  model.deploy("redis", []);
  const uniter = new Uniter({
    unitName: "redis/0",
    modelUuid: "m",
    charmDir: join(base, "charm"),
    dataDir,
    api: model.api("redis/0"),
    lock: new MachineLock({ dataDir }),
    tools,
    socketPath: join(dataDir, "s"),
    toolsDir: join(dataDir, "tools"),
    clock: systemClock,
    logger,
    leadership,
  });
  leadership.start();
  const done = uniter.run();
  try {
    await logger.waitFor("ran hook");
    return await waitForLog(log, (l) => l.length >= 1);
  } finally {
    uniter.stop();
    await done;
    await leadership.stop();
    await tools.close();
  }
}

describe("AgentLeadership in the uniter", () => {
  test("a new leader runs leader-elected, where is-leader is True and leader-set works", async () => {
    const lines = await runWithLeadership(true);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^redis\/0 leader-elected .* leader=True motd=elected$/);
  });

  test("a minion runs leader-settings-changed, where is-leader is False", async () => {
    const lines = await runWithLeadership(false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^redis\/0 leader-settings-changed .* leader=False motd=hello$/);
  });
});
