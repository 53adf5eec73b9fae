// Public face of @concord/leadership: the service module, its handlers and stores, and the lease domain.
export * from "./domain/index";
export { leadershipModule, MIN_CLAIM_ENV, migrationsFolder } from "./module";
export { type LeadershipServiceDeps, leadershipService, toConcordError } from "./server";
export { leaderEvent, SCHEMA } from "./store/events";
export { PgLeaseStore, type PgLeaseStoreOptions, storeError } from "./store/lease-store";
export { LeaderSettingsStore, type LeaderSettingsView } from "./store/settings-store";
