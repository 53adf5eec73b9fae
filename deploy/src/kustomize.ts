import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import type { K8sObject } from "./types";

const run = promisify(execFile);

/** The kustomize release CI renders with (its go.mod needs Go >= 1.24). */
export const KUSTOMIZE_VERSION = "v5.8.1";
const MODULE = "sigs.k8s.io/kustomize/kustomize/v5";

let binary: Promise<string> | undefined;

async function versionOf(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ["version"], { timeout: 20_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * The kustomize binary: $KUSTOMIZE, else a v5 `kustomize` on PATH, else the pinned release built once with
 * `go install` from the Go module proxy into ~/.cache/concord (about 20 s the first time, then reused).
 */
export function kustomizeBinary(): Promise<string> {
  binary ??= (async () => {
    const fromEnv = process.env.KUSTOMIZE;
    if (fromEnv) return fromEnv;
    if ((await versionOf("kustomize"))?.startsWith("v5.")) return "kustomize";
    const dir = join(
      process.env.XDG_CACHE_HOME || join(homedir(), ".cache"),
      "concord",
      `kustomize-${KUSTOMIZE_VERSION}`,
    );
    const path = join(dir, "kustomize");
    if (existsSync(path) && (await versionOf(path))) return path;
    await mkdir(dir, { recursive: true });
    try {
      await run("go", ["install", `${MODULE}@${KUSTOMIZE_VERSION}`], {
        env: {
          ...process.env,
          GOBIN: dir,
          GOFLAGS: "-mod=mod",
          GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "local",
        },
        timeout: 600_000,
      });
    } catch (err) {
      throw new Error(
        `kustomize is needed to render deploy/: set KUSTOMIZE, put kustomize v5 on PATH, or install Go so that \`go install ${MODULE}@${KUSTOMIZE_VERSION}\` works (${(err as Error).message})`,
      );
    }
    return path;
  })();
  return binary;
}

/** Renders a kustomization folder (`kustomize build`) into its objects. */
export async function render(dir: string): Promise<K8sObject[]> {
  const bin = await kustomizeBinary();
  let stdout: string;
  try {
    ({ stdout } = await run(bin, ["build", dir], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }));
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`kustomize build ${dir} failed: ${e.stderr?.trim() || e.message}`);
  }
  return parseManifests(stdout, dir);
}

/** Parses multi-document YAML into objects; a YAML error or a document that is not an object is an error. */
export function parseManifests(text: string, source = "manifests"): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value))
      throw new Error(`${source}: a document is not an object`);
    objects.push(value as K8sObject);
  }
  return objects;
}
