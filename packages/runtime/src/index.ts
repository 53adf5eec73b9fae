export { ADMIN_TOKEN_FILE, dataDir, SECRET_FILE, tokenSecret } from "./secrets";
export {
  runStandalone,
  runUntilSignalled,
  startProcess,
  type ConcordProcess,
  type ProcessOptions,
} from "./process";
export { systemClock, type Clock, type RunningService, type ServiceDeps, type ServiceModule } from "./types";
