import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { Finding, K8sObject } from "./types";

/**
 * The schema of every kind the manifests may contain: kubernetes-types (generated from Kubernetes' OpenAPI schema)
 * for built-in kinds, crds.ts for custom resources. A kind missing here is a finding, so a new kind gets a schema.
 */
const SCHEMAS: Record<string, string> = {
  "v1/Namespace": 'import("kubernetes-types/core/v1").Namespace',
  "v1/ServiceAccount": 'import("kubernetes-types/core/v1").ServiceAccount',
  "v1/ConfigMap": 'import("kubernetes-types/core/v1").ConfigMap',
  "v1/Secret": 'import("kubernetes-types/core/v1").Secret',
  "v1/Service": 'import("kubernetes-types/core/v1").Service',
  "v1/PersistentVolumeClaim": 'import("kubernetes-types/core/v1").PersistentVolumeClaim',
  "apps/v1/Deployment": 'import("kubernetes-types/apps/v1").Deployment',
  "apps/v1/StatefulSet": 'import("kubernetes-types/apps/v1").StatefulSet',
  "batch/v1/Job": 'import("kubernetes-types/batch/v1").Job',
  "policy/v1/PodDisruptionBudget": 'import("kubernetes-types/policy/v1").PodDisruptionBudget',
  "networking.k8s.io/v1/NetworkPolicy": 'import("kubernetes-types/networking/v1").NetworkPolicy',
  "autoscaling/v2/HorizontalPodAutoscaler":
    'import("kubernetes-types/autoscaling/v2").HorizontalPodAutoscaler',
  "monitoring.coreos.com/v1/PodMonitor": 'import("./crds").PodMonitor',
  "postgresql.cnpg.io/v1/Cluster": 'import("./crds").CnpgCluster',
};

const here = dirname(fileURLToPath(import.meta.url));
// A virtual file beside crds.ts, so that its imports resolve like any source file's.
const VIRTUAL = join(here, "__rendered_manifests__.ts");

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts"],
  types: [],
  skipLibCheck: true,
};

// Parsed library files (kubernetes-types, lib.d.ts), kept across calls: parsing them is most of a check's cost.
const parsed = new Map<string, ts.SourceFile | undefined>();

/** `Kind/name` of an object, as findings name it. */
export function objectId(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? "?"}`;
}

/** The dotted path (`spec.template.spec.containers[0].image`) of the literal at `pos` inside `node`. */
function pathAt(node: ts.Expression, pos: number): string {
  let path = "";
  let current: ts.Expression | undefined = node;
  while (current) {
    const at: ts.Expression = current;
    current = undefined;
    if (ts.isObjectLiteralExpression(at)) {
      const prop = at.properties.find((p) => p.pos <= pos && pos < p.end);
      if (prop && ts.isPropertyAssignment(prop)) {
        const name = ts.isStringLiteral(prop.name) || ts.isIdentifier(prop.name) ? prop.name.text : "?";
        path += path ? `.${name}` : name;
        if (pos >= prop.initializer.getStart()) current = prop.initializer;
      }
    } else if (ts.isArrayLiteralExpression(at)) {
      const index = at.elements.findIndex((e) => e.pos <= pos && pos < e.end);
      if (index >= 0) {
        path += `[${index}]`;
        current = at.elements[index];
      }
    }
  }
  return path;
}

/**
 * Checks every object against its kind's schema by type-checking it as a TypeScript object literal: an unknown
 * field (a typo), a wrong type or a missing required field is a finding.
 */
export function checkSchemas(objects: readonly K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  const docs: { index: number; name: string }[] = [];
  let text = "";
  objects.forEach((o, index) => {
    const type = SCHEMAS[`${o.apiVersion}/${o.kind}`];
    if (!type) {
      findings.push({
        object: objectId(o),
        message: `no schema for ${o.apiVersion} ${o.kind} (add one to schema.ts)`,
      });
      return;
    }
    const name = `doc${index}`;
    docs.push({ index, name });
    text += `export const ${name}: ${type} = ${JSON.stringify(o, null, 2)};\n`;
  });
  if (docs.length === 0) return findings;

  const host = ts.createCompilerHost(OPTIONS);
  const source = ts.createSourceFile(VIRTUAL, text, ts.ScriptTarget.ES2022, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    if (file === VIRTUAL) return source;
    if (!parsed.has(file)) parsed.set(file, getSourceFile(file, language, onError, create));
    return parsed.get(file);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === VIRTUAL || fileExists(file);
  const program = ts.createProgram([VIRTUAL], OPTIONS, host);

  const declarations = new Map<string, ts.Expression>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.initializer) declarations.set(d.name.text, d.initializer);
    }
  }
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  for (const global of program.getGlobalDiagnostics()) diagnostics.push(global);
  for (const d of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\s+/g, " ").slice(0, 400);
    if (d.file !== source || d.start === undefined) {
      findings.push({ object: "-", message: `schema check: ${message}` });
      continue;
    }
    const start = d.start;
    const doc = docs.find((x) => {
      const init = declarations.get(x.name);
      return init !== undefined && init.pos <= start && start < init.end;
    });
    const init = doc && declarations.get(doc.name);
    const object = doc ? objects[doc.index] : undefined;
    findings.push({
      object: object ? objectId(object) : "-",
      path: init ? pathAt(init, start) || undefined : undefined,
      message,
    });
  }
  return findings;
}
