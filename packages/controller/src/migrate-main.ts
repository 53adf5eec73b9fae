// `concord-migrate [service...]`: applies the services' migrations to DATABASE_URL (the Kubernetes migration Job).
import { env } from "@concord/config";
import { connect, migrate } from "@concord/db";
import { allModules } from "./modules";

const url = env("DATABASE_URL");
if (!url) {
  console.error("concord-migrate: DATABASE_URL is not set");
  process.exit(2);
}
const wanted = process.argv.slice(2);
const modules = (await allModules()).filter((m) => wanted.length === 0 || wanted.includes(m.name));
const unknown = wanted.filter((w) => !modules.some((m) => m.name === w));
if (unknown.length > 0) {
  console.error(`concord-migrate: unknown service(s): ${unknown.join(", ")}`);
  process.exit(2);
}
const sql = connect(url, { max: 2, applicationName: "concord-migrate" });
try {
  for (const m of modules) {
    if (!m.migrations) continue;
    await migrate(sql, m.migrations);
    console.log(`migrated ${m.name} (schema ${m.migrations.schema})`);
  }
} finally {
  await sql.end();
}
