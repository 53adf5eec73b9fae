import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkConcord, checkReferences } from "./checks";
import { render } from "./kustomize";
import { checkSchemas } from "./schema";
import type { Finding, K8sObject, Overlay, ValidateOptions } from "./types";

export { checkConcord, checkReferences, workloads } from "./checks";
export { KUSTOMIZE_VERSION, kustomizeBinary, parseManifests, render } from "./kustomize";
export { checkSchemas, objectId } from "./schema";
export { CONCORD_GATEWAY, CONCORD_SERVICES, MIGRATE_JOB, OVERLAYS } from "./services";
export type { ConcordProcess, ConcordService, Finding, K8sObject, Overlay, ValidateOptions } from "./types";

/** The deploy/ folder. */
export const DEPLOY_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Every check over a rendered set of objects: schemas, references, Concord's rules. */
export function validateObjects(objects: readonly K8sObject[], options: ValidateOptions = {}): Finding[] {
  return [...checkSchemas(objects), ...checkReferences(objects, options), ...checkConcord(objects)];
}

/** Renders one of deploy/'s kustomizations and validates it. */
export async function validateOverlay(
  overlay: Overlay,
): Promise<{ objects: K8sObject[]; findings: Finding[] }> {
  const objects = await render(join(DEPLOY_DIR, overlay.dir));
  return { objects, findings: validateObjects(objects, overlay) };
}

/** One line per finding, for people. */
export function formatFinding(f: Finding): string {
  return `${f.object}${f.path ? ` ${f.path}` : ""}: ${f.message}`;
}
