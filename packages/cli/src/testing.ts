// Test helpers: a running all-in-one Concord in this process, and the `concord` bin as a child process.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { allModules } from "@concord/controller";
import { createTestDatabase, type TestDatabase } from "@concord/db";
import { type ConcordProcess, startProcess } from "@concord/runtime";

/** The `concord` bin. */
export const BIN = fileURLToPath(new URL("../bin/concord.mjs", import.meta.url));

/** A running controller with its own database and data folder. */
export interface TestController {
  address: string;
  dataDir: string;
  /** Stops the controller (the database and data folder stay). */
  stop(): Promise<void>;
  /** Starts it again on the same address, data folder and database. */
  restart(): Promise<void>;
  /** Stops it and removes its database and data folder. */
  destroy(): Promise<void>;
}

/** Starts an all-in-one controller on a free port, as `npm start` would, with a fresh database. */
export async function startTestController(): Promise<TestController> {
  const dataDir = mkdtempSync(join(tmpdir(), "concord-cli-"));
  const db: TestDatabase = await createTestDatabase();
  const mods = await allModules();
  process.env.CONCORD_DATA = dataDir;
  process.env.DATABASE_URL = db.url;
  process.env.CONCORD_METRICS_ADDR = "off";
  process.env.LOG_LEVEL ??= "warn";
  delete process.env.NATS_URL;
  delete process.env.CONCORD_TOKEN_SECRET;
  const start = (addr: string) => {
    process.env.CONCORD_ADDR = addr;
    return startProcess({ name: "controller", modules: mods, allInOne: true, defaultAddress: addr });
  };
  let proc: ConcordProcess | undefined = await start("127.0.0.1:0");
  const address = proc.address;
  return {
    address,
    dataDir,
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
    async restart() {
      await proc?.stop();
      proc = await start(address);
    },
    async destroy() {
      await proc?.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The outcome of one `concord` run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a `concord` child gets: the controller's data folder and address, nothing else of ours. */
export function cliEnv(c: TestController, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: "xterm" };
  return { ...env, CONCORD_DATA: c.dataDir, CONCORD_CONTROLLER: c.address, ...extra };
}

/** Runs `concord <args>` to completion. */
export function concord(c: TestController, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: cliEnv(c, extra), cwd: c.dataDir },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        done({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}

/** A long-running child whose output a test awaits. */
export class Follower {
  #out = "";
  readonly #waiters: { test: (out: string) => boolean; done: () => void }[] = [];
  constructor(readonly child: ChildProcess) {
    const take = (chunk: Buffer) => {
      this.#out += chunk.toString("utf8");
      for (const w of [...this.#waiters]) {
        if (w.test(this.#out)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.done();
        }
      }
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
  }

  /** Everything the child wrote so far (stdout and stderr). */
  get output(): string {
    return this.#out;
  }

  /** Resolves once the output satisfies `test`; fails if the child exits first. */
  until(test: (out: string) => boolean, what: string): Promise<void> {
    if (test(this.#out)) return Promise.resolve();
    return new Promise((done, fail) => {
      const onExit = (code: number | null) =>
        fail(new Error(`concord exited (${code}) before ${what}; output:\n${this.#out}`));
      this.child.once("exit", onExit);
      this.#waiters.push({
        test,
        done: () => {
          this.child.off("exit", onExit);
          done();
        },
      });
    });
  }

  /** Ends the child's process group and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once("exit", done));
    process.kill(-this.child.pid!, "SIGTERM");
    await exited;
  }
}

/** Starts `concord <args>` in its own process group; `pty` runs it under script(1) in a pseudo-terminal. */
export function follow(c: TestController, args: string[], pty = false): Follower {
  const argv = [BIN, ...args];
  const quoted = [process.execPath, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = pty
    ? spawn("script", ["-qfec", quoted, "/dev/null"], { env: cliEnv(c), cwd: c.dataDir, detached: true })
    : spawn(process.execPath, argv, { env: cliEnv(c), cwd: c.dataDir, detached: true });
  return new Follower(child);
}
