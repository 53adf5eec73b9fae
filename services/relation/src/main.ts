// Runs the relation service standalone: one process, its own server and database schema.
import { runStandalone } from "@concord/runtime";
import { relationModule } from "./module";

/** The relation service's default gRPC port when CONCORD_ADDR is unset. */
const DEFAULT_PORT = 17100;

await runStandalone(relationModule, DEFAULT_PORT);
