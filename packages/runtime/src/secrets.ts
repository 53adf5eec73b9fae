import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, env } from "@concord/config";

/** The file in the data folder that holds the generated token secret (all-in-one mode). */
export const SECRET_FILE = "token-secret";
/** The file in the data folder that holds an admin token for the local user. */
export const ADMIN_TOKEN_FILE = "admin.token";

/**
 * The token secret: CONCORD_TOKEN_SECRET, else (when a data folder is given) the one generated into it on first
 * start; a standalone service without either cannot verify tokens and refuses to start.
 */
export async function tokenSecret(dataDir?: string): Promise<string> {
  const fromEnv = env("CONCORD_TOKEN_SECRET");
  if (fromEnv) return fromEnv;
  if (!dataDir)
    throw new ConfigError(
      "CONCORD_TOKEN_SECRET is not set: every service must share the controller's secret",
    );
  const file = join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" }).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    });
  }
  return (await readFile(file, "utf8")).trim();
}

/** The data folder: CONCORD_DATA, or ./.concord. */
export function dataDir(): string {
  return env("CONCORD_DATA", join(process.cwd(), ".concord"));
}
