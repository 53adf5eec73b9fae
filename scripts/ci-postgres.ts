// CI fallback when no Postgres runs on this machine: embedded Postgres on a fixed port until killed.
import { startEmbeddedPostgres } from "@concord/db";

const [dir, port] = process.argv.slice(2);
if (!dir || !port) throw new Error("usage: ci-postgres.ts <dir> <port>");
const server = await startEmbeddedPostgres(dir, { port: Number(port), log: (l) => console.log(l) });
console.log(`embedded Postgres ready: ${server.url}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
