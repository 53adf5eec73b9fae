// `npm run stack`: every service as its own process against real Postgres and NATS, behind a gateway on
// 127.0.0.1:17070, wired as in Kubernetes. Data, logs and the admin token: $CONCORD_DATA (default ./.concord-stack).
import { join } from "node:path";
import { env } from "@concord/config";
import { startStack } from "./stack";

const dataDir = env("CONCORD_DATA", join(process.cwd(), ".concord-stack"));
try {
  const stack = await startStack({
    dataDir,
    databaseUrl: env("DATABASE_URL"),
    natsUrl: env("NATS_URL"),
    gatewayAddress: env("CONCORD_ADDR", "127.0.0.1:17070"),
  });
  console.log(
    [
      "",
      `Concord stack is SERVING on ${stack.address} (gateway)`,
      ...Object.entries(stack.services).map(([name, address]) => `  ${name.padEnd(13)} ${address}`),
      `  admin token:  ${join(dataDir, "admin.token")}   logs: ${join(dataDir, "logs")}`,
      "Ctrl-C stops every process.",
      "",
    ].join("\n"),
  );
  const stop = () => void stack.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  console.error(`stack: ${(err as Error).message}`);
  process.exit(1);
}
