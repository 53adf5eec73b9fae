import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isMeterStatusWorkerError } from "./errors";
import { ControllerState, DiskStateFile, formatState, parseState } from "./state";
import { FakeMeterStatusClient } from "./testing";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ms-state-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("state YAML", () => {
  it("writes Juju's keys in order and omits zero values", () => {
    assert.equal(formatState({ code: "", info: "" }), 'status-code: ""\nstatus-info: ""\n');
    assert.equal(
      formatState({ code: "AMBER", info: "x y", disconnected: { disconnectedAt: 1700000000, state: 2 } }),
      "status-code: AMBER\nstatus-info: x y\ndisconnected:\n  disconnected-at: 1700000000\n  disconnected-state: 2\n",
    );
    assert.equal(
      formatState({ code: "RED", info: "", disconnected: { disconnectedAt: 0, state: 0 } }),
      'status-code: RED\nstatus-info: ""\ndisconnected: {}\n',
    );
  });

  it("round-trips and reads missing keys as zero", () => {
    const s = { code: "RED", info: "i", disconnected: { disconnectedAt: 5, state: 3 } };
    assert.deepEqual(parseState(formatState(s)), s);
    assert.deepEqual(parseState("status-code: RED\n"), { code: "RED", info: "" });
    assert.deepEqual(parseState(""), { code: "", info: "" });
    assert.deepEqual(parseState("disconnected:\n  disconnected-at: 7\n"), {
      code: "",
      info: "",
      disconnected: { disconnectedAt: 7, state: 0 },
    });
  });

  it("rejects malformed state", () => {
    for (const bad of [
      "- a\n- b\n",
      "status-code: [1]\n",
      "disconnected:\n  disconnected-at: 1.5\n",
      "a: b: c",
    ]) {
      assert.throws(
        () => parseState(bad),
        (err) => isMeterStatusWorkerError(err, "NotValid"),
        bad,
      );
    }
  });
});

describe("DiskStateFile", () => {
  it("reads a missing file as no state and writes atomically", async () => {
    const f = new DiskStateFile(join(dir, "meter-status.yaml"));
    assert.equal(await f.read(), undefined);
    await f.write({ code: "AMBER", info: "i", disconnected: { disconnectedAt: 9, state: 2 } });
    assert.deepEqual(await f.read(), {
      code: "AMBER",
      info: "i",
      disconnected: { disconnectedAt: 9, state: 2 },
    });
    assert.deepEqual(await readdir(dir), ["meter-status.yaml"]);
    await f.remove();
    await f.remove();
    assert.equal(await f.readRaw(), undefined);
  });

  it("fails on a corrupt file", async () => {
    const path = join(dir, "corrupt.yaml");
    await writeFile(path, "status-code: [\n");
    await assert.rejects(new DiskStateFile(path).read());
  });

  it("fails on a read error other than not found", async () => {
    await assert.rejects(new DiskStateFile(dir).read());
  });
});

describe("ControllerState", () => {
  it("treats an empty string as no state and writes the whole YAML", async () => {
    const client = new FakeMeterStatusClient({ code: "GREEN", info: "" });
    const st = new ControllerState(client, "app/0");
    assert.equal(await st.read(), undefined);
    await st.write({ code: "GREEN", info: "" });
    assert.equal(client.workerState, 'status-code: GREEN\nstatus-info: ""\n');
    assert.deepEqual(await st.read(), { code: "GREEN", info: "" });
  });
});
