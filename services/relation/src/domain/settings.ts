import { createHash } from "node:crypto";
import { fail } from "./errors";

/** The most bytes (keys plus values) one settings collection may hold (spec section 8.3). */
export const SETTINGS_QUOTA_BYTES = 16 * 1024 * 1024;

/** Drops entries whose value is the empty string (EnterScope, cross-model writes). */
export function dropEmpty(settings: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== ""));
}

/** Splits a key-level write into keys to upsert and keys to delete (empty value = delete). */
export function splitSettings(settings: Record<string, string>): {
  set: Record<string, string>;
  unset: string[];
} {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (v === "") unset.push(k);
    else set[k] = v;
  }
  return { set, unset };
}

/** Settings keys must be non-empty (NotValid). */
export function validateSettingsKeys(settings: Record<string, string>): void {
  if (Object.hasOwn(settings, "")) throw fail("NotValid", "settings keys must not be empty");
}

/** Fails with QuotaLimitExceeded when the collection is larger than the quota. */
export function checkSettingsSize(settings: Record<string, string>): void {
  let size = 0;
  for (const [k, v] of Object.entries(settings)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > SETTINGS_QUOTA_BYTES)
    throw fail(
      "QuotaLimitExceeded",
      `settings of ${size} bytes exceed the quota of ${SETTINGS_QUOTA_BYTES} bytes`,
    );
}

/** Juju's settings digest: SHA-256 over the entries sorted by key, each `key + " " + value + " "`, hex. */
export function settingsHash(settings: Record<string, string>): string {
  const h = createHash("sha256");
  for (const k of Object.keys(settings).sort()) h.update(`${k} ${settings[k]} `);
  return h.digest("hex");
}

/** The int64 version watchers expose: the hash's first 8 characters read little-endian; 0 without a hash. */
export function settingsVersion(hash: string | null | undefined): bigint {
  if (!hash) return 0n;
  return Buffer.from(hash.slice(0, 8), "latin1").readBigInt64LE(0);
}
