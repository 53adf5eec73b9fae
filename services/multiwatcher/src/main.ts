// The multiwatcher as its own process (how Kubernetes runs it): DATABASE_URL, NATS_URL, CONCORD_TOKEN_SECRET,
// CONCORD_ADDR (default 0.0.0.0:17130).
import { runStandalone } from "@concord/runtime";
import { multiwatcherModule } from "./module";

await runStandalone(multiwatcherModule, 17130);
