// The leadership service's domain: lease rules over the LeaseStore interface, with no SQL and no gRPC.

export * from "./errors";
export {
  type AuthEntity,
  apiClaimDurationBounds,
  type FacadeOptions,
  type LeaderFunc,
  LeadershipFacade,
} from "./facade";
export { LeaseManager, managerDefaults, validateManagerConfig } from "./manager";
export { InMemoryLeaseStore } from "./memory-store";
export * from "./types";
export {
  applicationOfUnit,
  defaultSecretaries,
  formatGoDuration,
  genericSecretary,
  isValidApplicationName,
  isValidUnitName,
  leadershipSecretary,
} from "./validation";
