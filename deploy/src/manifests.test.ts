import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { DEPLOY_DIR, formatFinding, OVERLAYS, validateOverlay, workloads } from "./index";
import type { K8sObject } from "./types";

const rendered = new Map<string, Promise<{ objects: K8sObject[]; findings: string[] }>>();
function overlay(name: string) {
  const o = OVERLAYS.find((x) => x.name === name);
  if (!o) throw new Error(`no overlay ${name}`);
  if (!rendered.has(name)) {
    rendered.set(
      name,
      validateOverlay(o).then(({ objects, findings }) => ({
        objects,
        findings: findings.map(formatFinding),
      })),
    );
  }
  return rendered.get(name) as Promise<{ objects: K8sObject[]; findings: string[] }>;
}
const get = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const replicas = (o: K8sObject | undefined) => (o?.spec as { replicas?: number } | undefined)?.replicas;

describe("every kustomization renders and validates offline", () => {
  for (const o of OVERLAYS) {
    test(`${o.name} (${o.dir})`, async () => {
      const { objects, findings } = await overlay(o.name);
      assert.ok(objects.length > 0);
      assert.deepEqual(findings, []);
    });
  }
});

describe("dev overlay", () => {
  test("runs single-instance Postgres and NATS JetStream StatefulSets beside one replica per service", async () => {
    const { objects } = await overlay("dev");
    assert.equal(replicas(get(objects, "StatefulSet", "concord-db")), 1);
    const nats = workloads([get(objects, "StatefulSet", "nats") as K8sObject])[0];
    assert.ok(nats?.pod.containers[0]?.args?.includes("--jetstream"));
    for (const d of objects.filter((x) => x.kind === "Deployment"))
      assert.equal(replicas(d), 1, d.metadata.name);
    assert.ok(objects.every((x) => x.kind === "Namespace" || x.metadata.namespace === "concord-dev"));
  });

  test("generates its secrets and points the services at the local image", async () => {
    const { objects } = await overlay("dev");
    const secrets = objects.filter((x) => x.kind === "Secret").map((x) => x.metadata.name);
    assert.ok(secrets.some((n) => n.startsWith("concord-db-app-")));
    assert.ok(secrets.some((n) => n.startsWith("concord-token-")));
    for (const w of workloads(objects).filter((x) => x.object.metadata.name.startsWith("concord-"))) {
      if (w.object.kind === "StatefulSet") continue;
      assert.equal(w.pod.containers[0]?.image, "localhost/concord:dev");
    }
  });
});

describe("production overlay", () => {
  test("uses CloudNativePG, a PodMonitor and three replicas per service", async () => {
    const { objects } = await overlay("production");
    const cluster = get(objects, "Cluster", "concord-db");
    assert.equal((cluster?.spec as { instances?: number } | undefined)?.instances, 3);
    assert.ok(get(objects, "PodMonitor", "concord"));
    for (const d of objects.filter((x) => x.kind === "Deployment"))
      assert.equal(replicas(d), 3, d.metadata.name);
    assert.ok(!objects.some((x) => x.kind === "StatefulSet"), "no in-cluster dev databases in production");
    assert.ok(!objects.some((x) => x.kind === "Secret"), "production secrets never live in the repository");
  });

  test("names the official NATS chart with JetStream in its values", () => {
    const values = parse(readFileSync(join(DEPLOY_DIR, "overlays/production/nats-values.yaml"), "utf8"));
    assert.equal(values.config.jetstream.enabled, true);
    assert.equal(values.config.cluster.enabled, true);
  });
});
