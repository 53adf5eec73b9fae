import postgres from "postgres";
import type { Sql } from "./types";

/** Options for {@link connect}. */
export interface ConnectOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

/** Opens a connection pool; notices are dropped (migrations print many). */
export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "concord" },
  });
}

/** Replaces the database name in a Postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates the database if it does not exist yet. `url` names any database on the same server. */
export async function ensureDatabase(url: string, database: string): Promise<void> {
  const admin = connect(url, { max: 1 });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } catch (err) {
    // A concurrent creator may have won the race.
    if ((err as { code?: string }).code !== "42P04") throw err;
  } finally {
    await admin.end();
  }
}

/** Whether a Postgres server answers at the URL within the timeout. */
export async function isReachable(url: string, timeoutSeconds = 2): Promise<boolean> {
  const probe = postgres(url, { max: 1, connect_timeout: timeoutSeconds, onnotice: () => {} });
  try {
    await probe`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.end({ timeout: 1 });
  }
}
