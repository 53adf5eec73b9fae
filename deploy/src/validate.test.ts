import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { DEPLOY_DIR, render, validateObjects } from "./index";
import type { K8sObject } from "./types";

// Each case breaks a valid render in one way; validation must name the object and the problem.
let valid: K8sObject[];
before(async () => {
  valid = await render(`${DEPLOY_DIR}/overlays/dev`);
});

type Pod = {
  containers: Record<string, unknown>[];
};
const clone = () => structuredClone(valid);
const deployment = (objects: K8sObject[], name = "concord-relation") =>
  objects.find((o) => o.kind === "Deployment" && o.metadata.name === name) as K8sObject & {
    spec: { replicas?: unknown; template: { spec: Pod } };
  };
const container = (objects: K8sObject[], name?: string) =>
  deployment(objects, name).spec.template.spec.containers[0] as Record<string, unknown>;
const messages = (objects: K8sObject[]) =>
  validateObjects(objects).map((f) => `${f.object} ${f.path ?? ""}: ${f.message}`);

describe("validation fails on", () => {
  test("nothing when the render is untouched", () => {
    assert.deepEqual(messages(valid), []);
  });

  test("a misspelt field", () => {
    const objects = clone();
    container(objects).imagePullPolcy = "Always";
    const found = messages(objects);
    assert.equal(found.length, 1);
    assert.match(
      found[0] ?? "",
      /Deployment\/concord-relation spec\.template\.spec\.containers\[0\]\.imagePullPolcy: .*imagePullPolcy/,
    );
  });

  test("a value of the wrong type", () => {
    const objects = clone();
    deployment(objects).spec.replicas = "2";
    assert.match(
      messages(objects).join("\n"),
      /spec\.replicas: Type 'string' is not assignable to type 'number'/,
    );
  });

  test("a missing required field", () => {
    const objects = clone();
    delete container(objects).name;
    assert.match(messages(objects).join("\n"), /containers\[0\].*name/);
  });

  test("a kind with no schema", () => {
    const objects = clone();
    objects.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } });
    assert.match(messages(objects).join("\n"), /Widget\/w : no schema for example.com\/v1 Widget/);
  });

  test("a readiness probe of the wrong health service", () => {
    const objects = clone();
    (container(objects).readinessProbe as { grpc: { service: string } }).grpc.service =
      "concord.relation.v1.Nope";
    assert.match(
      messages(objects).join("\n"),
      /readinessProbe: must be a gRPC probe of concord\.relation\.v1\.RelationService/,
    );
  });

  test("a probe on a port the container does not have", () => {
    const objects = clone();
    (container(objects).livenessProbe as { grpc: { port: number } }).grpc.port = 1234;
    assert.match(messages(objects).join("\n"), /livenessProbe: probe port 1234 is not a port/);
  });

  test("a Service whose targetPort no pod has", () => {
    const objects = clone();
    const svc = objects.find(
      (o) => o.kind === "Service" && o.metadata.name === "concord-leadership",
    ) as K8sObject & {
      spec: { ports: { targetPort: string }[] };
    };
    (svc.spec.ports[0] as { targetPort: string }).targetPort = "grcp";
    assert.match(
      messages(objects).join("\n"),
      /Service\/concord-leadership spec\.ports\[0\]\.targetPort: no selected container has port grcp/,
    );
  });

  test("a Secret that is not there, or a key it lacks", () => {
    const objects = clone();
    const env = container(objects).env as {
      name: string;
      valueFrom?: { secretKeyRef: { name: string; key: string } };
    }[];
    const db = env.find((e) => e.name === "DATABASE_URL");
    const token = env.find((e) => e.name === "CONCORD_TOKEN_SECRET");
    if (!db?.valueFrom || !token?.valueFrom) throw new Error("fixture changed");
    db.valueFrom.secretKeyRef.key = "url";
    token.valueFrom.secretKeyRef.name = "concord-tokens";
    const found = messages(objects).join("\n");
    assert.match(found, /Secret concord-db-app-\w+ has no key url/);
    assert.match(found, /Secret concord-tokens is neither rendered nor declared external/);
  });

  test("a Service that is not headless, or a missing PodDisruptionBudget", () => {
    const objects = clone().filter(
      (o) => !(o.kind === "PodDisruptionBudget" && o.metadata.name === "concord-meterstatus"),
    );
    const svc = objects.find(
      (o) => o.kind === "Service" && o.metadata.name === "concord-multiwatcher",
    ) as K8sObject & {
      spec: { clusterIP?: string };
    };
    delete svc.spec.clusterIP;
    const found = messages(objects).join("\n");
    assert.match(found, /Service\/concord-multiwatcher spec\.clusterIP: must be headless/);
    assert.match(found, /PodDisruptionBudget\/concord-meterstatus : missing/);
  });

  test("a gateway backend that is not a headless Service through dns:///, or a headless gateway Service", () => {
    const objects = clone();
    const env = container(objects, "concord-gateway").env as { name: string; value?: string }[];
    const relation = env.find((e) => e.name === "CONCORD_RELATION_ADDR");
    if (!relation) throw new Error("fixture changed");
    relation.value = "concord-relation:17100"; // pick the default resolver: one address, one pod per connection
    env.splice(
      env.findIndex((e) => e.name === "CONCORD_MULTIWATCHER_ADDR"),
      1,
    );
    const svc = objects.find(
      (o) => o.kind === "Service" && o.metadata.name === "concord-gateway",
    ) as K8sObject & {
      spec: { clusterIP?: string };
    };
    svc.spec.clusterIP = "None";
    const found = messages(objects).join("\n");
    assert.match(
      found,
      /Deployment\/concord-gateway .*env: CONCORD_RELATION_ADDR must be dns:\/\/\/concord-relation:17100/,
    );
    assert.match(found, /CONCORD_MULTIWATCHER_ADDR must be dns:\/\/\/concord-multiwatcher:17130/);
    assert.match(found, /Service\/concord-gateway spec\.clusterIP: must not be headless/);
  });

  test("a missing gateway, or one started as another process", () => {
    const started = clone();
    container(started, "concord-gateway").args = ["relation"];
    assert.match(messages(started).join("\n"), /concord-gateway .*args: must start the gateway process/);
    const objects = clone().filter((o) => o.metadata.name !== "concord-gateway");
    const found = messages(objects).join("\n");
    for (const kind of ["Deployment", "Service", "PodDisruptionBudget"])
      assert.match(found, new RegExp(`${kind}/concord-gateway : missing`));
  });
});
