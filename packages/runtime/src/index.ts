export {
  type ConcordProcess,
  type ProcessOptions,
  runStandalone,
  runUntilSignalled,
  startProcess,
  stopWithParent,
} from "./process";
export { ADMIN_TOKEN_FILE, dataDir, SECRET_FILE, tokenSecret } from "./secrets";
export { type Clock, type RunningService, type ServiceDeps, type ServiceModule, systemClock } from "./types";
