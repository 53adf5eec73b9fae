import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import type { Sql } from "./types";

/** Where one service's drizzle-kit migrations live and which Postgres schema they own. */
export interface MigrationSet {
  /** The service's Postgres schema, e.g. `relation`. */
  schema: string;
  /** Absolute path of the drizzle-kit output folder (the one holding `meta/_journal.json`). */
  folder: string;
}

/**
 * Applies a service's pending migrations. Each service keeps its own journal table in the `drizzle` schema, so
 * services migrate independently; concurrent migrators of the same service are serialised by an advisory lock.
 */
export async function migrate(sql: Sql, set: MigrationSet): Promise<void> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(hashtext(${`concord-migrate-${set.schema}`}))`;
    await drizzleMigrate(drizzle(sql), {
      migrationsFolder: set.folder,
      migrationsSchema: "drizzle",
      migrationsTable: `migrations_${set.schema}`,
    });
  } finally {
    await lock`select pg_advisory_unlock(hashtext(${`concord-migrate-${set.schema}`}))`;
    lock.release();
  }
}
