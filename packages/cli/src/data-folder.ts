// The all-in-one data folder as the CLI reads it. The names follow @concord/runtime (secrets.ts), which the CLI
// does not import on its hot path because it loads the database and event kits; data-folder.test.ts pins them.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

/** The admin token `npm start` writes. */
export const ADMIN_TOKEN_FILE = "admin.token";
/** The generated token secret of an all-in-one controller. */
export const SECRET_FILE = "token-secret";
/** The model `add-model` and `switch` make current (the CLI's own file). */
export const CURRENT_MODEL_FILE = "current-model";
/** The address a controller may record; read when present. */
export const ADDRESS_FILE = "controller.address";

/** The data folder: CONCORD_DATA, else ./.concord (as the controller resolves it). */
export function dataDir(env: Record<string, string | undefined>, cwd: string): string {
  return resolve(cwd, env.CONCORD_DATA || ".concord");
}

/** A file of the data folder, trimmed; undefined when it does not exist or is empty. */
export function readDataFile(dir: string, name: string): string | undefined {
  const file = join(dir, name);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").trim() || undefined;
}

/** Writes a file of the data folder (creating the folder). */
export async function writeDataFile(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `${text}\n`, { mode: 0o600 });
}
