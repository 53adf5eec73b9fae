export { type ConnectOptions, connect, ensureDatabase, isReachable, withDatabase } from "./connect";
export { freePort, startEmbeddedPostgres } from "./embedded";
export { type MigrationSet, migrate } from "./migrate";
export { ChannelNotifier } from "./notify";
export { createTestDatabase, testServer } from "./testing";
export type { EmbeddedServer, Sql, TestDatabase, TransactionSql } from "./types";
