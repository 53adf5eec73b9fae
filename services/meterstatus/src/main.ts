import { runStandalone } from "@concord/runtime";
import { meterstatusModule } from "./module";

await runStandalone(meterstatusModule, 17120);
