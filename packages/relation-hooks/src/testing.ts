// Helpers shared by this package's tests; not part of the public API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HookSource, RelationUnitsChange } from "./types";

/** A change event from plain maps (unit → version). */
export function change(
  changed: Record<string, number> = {},
  departed: string[] = [],
  appChanged: Record<string, number> = {},
): RelationUnitsChange {
  const units: Record<string, { version: number }> = {};
  for (const [unit, version] of Object.entries(changed)) units[unit] = { version };
  return { changed: units, appChanged, departed };
}

/** Takes every hook the source offers now, as `kind unit@version` strings. */
export function drain(source: HookSource): string[] {
  const out: string[] = [];
  while (!source.empty()) {
    const h = source.next();
    source.pop();
    out.push(`${h.kind} ${h.remoteUnit || `app:${h.remoteApplication}`}@${h.changeVersion}`);
  }
  return out;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "relation-hooks-test-"));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
