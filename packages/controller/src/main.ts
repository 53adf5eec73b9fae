// `npm start`: every Concord service in one process on one port, with zero setup.
import { join } from "node:path";
import { env } from "@concord/config";
import { ADMIN_TOKEN_FILE, dataDir, runUntilSignalled } from "@concord/runtime";
import { allModules } from "./modules";

const modules = await allModules();
await runUntilSignalled(
  { name: "controller", modules, allInOne: true, defaultAddress: "127.0.0.1:17070" },
  (p) =>
    [
      "",
      `Concord controller is SERVING on ${p.address} (gRPC, reflection enabled)`,
      `  services:    ${modules.map((m) => m.name).join(", ") || "(none)"}`,
      `  admin token: ${join(dataDir(), ADMIN_TOKEN_FILE)}`,
      `  data:        ${dataDir()}${env("DATABASE_URL") ? " (Postgres: DATABASE_URL)" : " (embedded Postgres)"}${
        env("NATS_URL") ? ", events: NATS_URL" : ", embedded event log"
      }`,
      `  metrics:     ${p.metricsAddress ? `http://${p.metricsAddress}/metrics` : "off"}`,
      `  try:         grpcurl -plaintext ${p.address} list`,
      "Ctrl-C stops it; the data stays for the next start.",
      "",
    ].join("\n"),
);
