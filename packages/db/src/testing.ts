import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, isReachable, withDatabase } from "./connect";
import { startEmbeddedPostgres } from "./embedded";
import type { EmbeddedServer, TestDatabase } from "./types";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres";

let server: Promise<{ url: string; embedded?: EmbeddedServer }> | undefined;

/**
 * The Postgres server tests use: DATABASE_URL, else the local server on 5432, else an embedded server started
 * for this process. With CONCORD_REQUIRE_SERVICES=1 (CI) an unreachable configured server is an error, never
 * a reason to skip.
 */
export function testServer(): Promise<{ url: string; embedded?: EmbeddedServer }> {
  server ??= (async () => {
    const url = process.env.DATABASE_URL ?? DEFAULT_URL;
    if (await isReachable(url)) return { url };
    if (process.env.DATABASE_URL && process.env.CONCORD_REQUIRE_SERVICES === "1") {
      throw new Error(`DATABASE_URL ${url} is not reachable`);
    }
    const dir = await mkdtemp(join(tmpdir(), "concord-test-pg-"));
    const embedded = await startEmbeddedPostgres(dir);
    process.once("exit", () => void rm(dir, { recursive: true, force: true }));
    return { url: embedded.url, embedded };
  })();
  return server;
}

/** Creates a fresh, empty database for one test file; `drop()` removes it again. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { url: serverUrl } = await testServer();
  const name = `concord_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = connect(serverUrl, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(serverUrl, name);
  const sql = connect(url, { max: 10, applicationName: "concord-test" });
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
