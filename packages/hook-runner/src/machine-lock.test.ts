import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isHookError } from "./errors";
import { MachineLock } from "./machine-lock";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "machine-lock-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d);
  return d;
}

describe("MachineLock", () => {
  it("hands the lock to waiters of one process in FIFO order", async () => {
    const lock = new MachineLock({ dataDir: await freshDir("fifo") });
    const order: string[] = [];
    const a = await lock.acquire({ worker: "a" });
    const pending = ["b", "c", "d"].map((w) =>
      lock.acquire({ worker: w }).then(async (held) => {
        order.push(w);
        assert.equal((await lock.holder())?.worker, w);
        await held.release();
      }),
    );
    assert.equal((await lock.holder())?.worker, "a");
    await a.release();
    await Promise.all(pending);
    assert.deepEqual(order, ["b", "c", "d"]);
    assert.equal(await lock.holder(), undefined);
  });

  it("shares one queue between instances on the same data dir", async () => {
    const d = await freshDir("shared");
    const one = new MachineLock({ dataDir: d });
    const two = new MachineLock({ dataDir: d });
    const held = await one.acquire({ worker: "one" });
    let got = false;
    const waiting = two.acquire({ worker: "two" }).then((h) => {
      got = true;
      return h;
    });
    await held.release();
    const h2 = await waiting;
    assert.ok(got);
    await h2.release();
  });

  it("cancels a pending acquisition and serves the next waiter", async () => {
    const lock = new MachineLock({ dataDir: await freshDir("cancel") });
    const held = await lock.acquire({ worker: "a" });
    const ac = new AbortController();
    const cancelled = lock.acquire({ worker: "b", signal: ac.signal });
    const next = lock.acquire({ worker: "c" });
    ac.abort();
    await assert.rejects(cancelled, (err) => isHookError(err, "Cancelled"));
    await held.release();
    const c = await next;
    assert.equal((await lock.holder())?.worker, "c");
    await c.release();
  });

  it("rejects at once when the signal is already aborted", async () => {
    const lock = new MachineLock({ dataDir: await freshDir("aborted") });
    await assert.rejects(lock.acquire({ worker: "a", signal: AbortSignal.abort() }), (err) =>
      isHookError(err, "Cancelled"),
    );
  });

  it("releasing twice is harmless", async () => {
    const lock = new MachineLock({ dataDir: await freshDir("twice") });
    const held = await lock.acquire({ worker: "a" });
    await held.release();
    const other = await lock.acquire({ worker: "b" });
    await held.release();
    assert.equal((await lock.holder())?.worker, "b");
    await other.release();
  });

  it("excludes another process holding the lock", async () => {
    const d = await freshDir("cross");
    const moduleUrl = new URL("./machine-lock.ts", import.meta.url).href;
    const script = `
      import { MachineLock } from ${JSON.stringify(moduleUrl)};
      const lock = new MachineLock({ dataDir: ${JSON.stringify(d)} });
      const held = await lock.acquire({ worker: "child" });
      process.stdout.write("held\\n");
      process.stdin.once("data", async () => {
        process.stdout.write("releasing\\n");
        await held.release();
        process.exit(0);
      });
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["pipe", "pipe", "inherit"],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    let out = "";
    const heldByChild = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("held\n")) resolve();
      }),
    );
    await heldByChild;
    const lock = new MachineLock({ dataDir: d, pollIntervalMs: 10 });
    assert.equal((await lock.holder())?.pid, child.pid);
    const mine = lock.acquire({ worker: "parent" }).then((h) => {
      assert.ok(out.includes("releasing"), "acquired while the child still held the lock");
      return h;
    });
    child.stdin.write("go\n");
    const held = await mine;
    assert.equal((await lock.holder())?.pid, process.pid);
    await held.release();
    if (child.exitCode === null) await once(child, "exit");
  });

  it("breaks a lock left by a dead process", async () => {
    const d = await freshDir("stale");
    const dead = spawn("true");
    await once(dead, "exit");
    await writeFile(join(d, "machine-lock"), JSON.stringify({ pid: dead.pid, token: "gone", worker: "x" }));
    const lock = new MachineLock({ dataDir: d });
    const held = await lock.acquire({ worker: "new" });
    assert.equal((await lock.holder())?.worker, "new");
    await held.release();
  });

  it("breaks a lock with this process's pid but a token it does not hold (pid reuse after restart)", async () => {
    const d = await freshDir("reuse");
    await writeFile(join(d, "machine-lock"), JSON.stringify({ pid: process.pid, token: "old", worker: "x" }));
    const lock = new MachineLock({ dataDir: d });
    const held = await lock.acquire({ worker: "new" });
    assert.equal((await lock.holder())?.worker, "new");
    await held.release();
  });

  it("does not break a lock held by a live process", async () => {
    const d = await freshDir("live");
    await writeFile(join(d, "machine-lock"), JSON.stringify({ pid: 4242, token: "t", worker: "other" }));
    const ac = new AbortController();
    let probes = 0;
    const lock = new MachineLock({
      dataDir: d,
      pollIntervalMs: 1,
      isProcessAlive: (pid) => {
        assert.equal(pid, 4242);
        if (++probes === 3) ac.abort();
        return true;
      },
    });
    await assert.rejects(lock.acquire({ worker: "me", signal: ac.signal }), (err) =>
      isHookError(err, "Cancelled"),
    );
    assert.equal((await lock.holder())?.worker, "other");
  });
});
