import type { Sql } from "postgres";

/** A connection pool to one Postgres database. */
export type { Sql, TransactionSql } from "postgres";

/** A running Postgres server Concord started itself (embedded mode). */
export interface EmbeddedServer {
  /** Connection URL of the server's `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

/** A database that lives only as long as one test file. */
export interface TestDatabase {
  url: string;
  sql: Sql;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}
