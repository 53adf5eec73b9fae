// Runs the leadership service standalone: one process, its own server and database schema.
import { runStandalone } from "@concord/runtime";
import { leadershipModule } from "./module";

/** The leadership service's default gRPC port when CONCORD_ADDR is unset. */
const DEFAULT_PORT = 17110;

await runStandalone(leadershipModule, DEFAULT_PORT);
