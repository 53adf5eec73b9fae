import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { AgentConfigError, loadAgentConfig } from "./config";
import { tempDir } from "./testing/helpers";

test("flags win over the environment; a token file is read and trimmed", async () => {
  const { path, cleanup } = await tempDir();
  try {
    await writeFile(join(path, "t"), "secret-token\n");
    const config = await loadAgentConfig(
      ["--unit", "wordpress/0", "--token-file", join(path, "t"), "--charm-dir=/c", "--data-dir", "/d"],
      { CONCORD_MODEL: "m-1", CONCORD_UNIT: "other/1", CONCORD_HOOK_RETRY_MS: "10" },
    );
    assert.deepEqual(config, {
      controller: "127.0.0.1:17070",
      modelUuid: "m-1",
      unit: "wordpress/0",
      token: "secret-token",
      charmDir: "/c",
      dataDir: "/d",
      hookRetryMs: 10,
      hookRetryMaxMs: 300_000,
      restartDelayMs: 3_000,
    });
  } finally {
    await cleanup();
  }
});

test("missing or malformed settings are configuration errors", async () => {
  const ok = { CONCORD_MODEL: "m", CONCORD_TOKEN: "t", CONCORD_CHARM_DIR: "/c", CONCORD_AGENT_DATA: "/d" };
  await assert.rejects(loadAgentConfig([], ok), AgentConfigError);
  await assert.rejects(loadAgentConfig(["--unit", "WordPress"], ok), /--unit must be a unit name/);
  await assert.rejects(loadAgentConfig(["--bogus", "1"], ok), /unknown flag --bogus/);
  await assert.rejects(loadAgentConfig(["--unit", "a/0"], { ...ok, CONCORD_TOKEN: "" }), /--token/);
  await assert.rejects(
    loadAgentConfig(["--unit", "a/0", "--hook-retry-ms", "x"], ok),
    /non-negative integer/,
  );
});
