import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CONCORD_SERVICES, DEPLOY_DIR, parseManifests } from "./index";

// Static checks of the image's files, so that the Dockerfile, its entrypoint and the manifests agree without a build.
const repo = join(DEPLOY_DIR, "..");
const read = (path: string) => readFileSync(join(repo, path), "utf8");

describe("the Dockerfile", () => {
  const dockerfile = read("Dockerfile");

  test("builds on an ordinary official base name that the build script can stand in for", () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    const fromArg = "$" + "{NODE_IMAGE}";
    assert.deepEqual(froms, [fromArg, fromArg]);
    assert.match(read("deploy/scripts/make-base-image.sh"), /ARG NODE_IMAGE=/);
  });

  test("runs as the numeric non-root user the manifests declare", () => {
    const users = [...dockerfile.matchAll(/^USER (\d+):(\d+)$/gm)];
    assert.equal(users.length, 1);
    const uid = Number(users[0]?.[1]);
    assert.ok(uid > 0);
    const [deployment] = parseManifests(read("deploy/base/relation.yaml"));
    const spec = deployment?.spec as { template: { spec: { securityContext: { runAsUser: number } } } };
    assert.equal(spec.template.spec.securityContext.runAsUser, uid);
    assert.match(dockerfile, /^ENTRYPOINT \["concord"\]$/m);
  });

  test("keeps node_modules out of the context but the image's own files in", () => {
    const ignore = read(".dockerignore").split("\n");
    assert.ok(ignore.includes("**/node_modules"));
    assert.ok(ignore.includes("deploy") && ignore.includes("!deploy/image"));
    for (const copied of dockerfile.matchAll(/^COPY (deploy\/\S+)/gm))
      assert.ok(existsSync(join(repo, copied[1] ?? "")));
  });

  test("has an entrypoint that starts every service from its main.ts", () => {
    const entry = read("deploy/image/concord.sh");
    const line = entry.split("\n").find((l) => l.includes("relation |"));
    for (const s of CONCORD_SERVICES) assert.match(line ?? "", new RegExp(`\\b${s.name}\\b`));
    assert.match(entry, /exec node --import tsx "services\/\$cmd\/src\/main\.ts"/);
    assert.match(entry, /migrate\) exec node packages\/controller\/bin\/concord-migrate\.mjs/);
  });

  test("has an entrypoint that starts the gateway, which names every service's address variable and port", () => {
    assert.match(
      read("deploy/image/concord.sh"),
      /exec node packages\/controller\/bin\/concord-gateway\.mjs/,
    );
    // The gateway's own table (packages/controller/src/gateway.ts) and CONCORD_SERVICES must agree.
    const gateway = read("packages/controller/src/gateway.ts");
    const contracts = [
      ...gateway.matchAll(/service: "(\w+)",[^}]*?addressVar: "(\w+)",[^}]*?port: (\d+)/g),
    ].map((m) => ({ name: m[1], addressVar: m[2], port: Number(m[3]) }));
    assert.deepEqual(
      contracts,
      CONCORD_SERVICES.map((s) => ({ name: s.name, addressVar: s.addressVar, port: s.port })),
    );
  });
});

describe("health service names", () => {
  // A service's proto, once written, must declare the name its readiness probe asks for.
  for (const s of CONCORD_SERVICES) {
    const dir = join(repo, "proto/concord", s.name, "v1");
    if (!existsSync(dir)) continue;
    test(`${s.name}: ${s.health} is declared in proto/concord/${s.name}/v1`, () => {
      const text = readdirSync(dir)
        .filter((f) => f.endsWith(".proto"))
        .map((f) => readFileSync(join(dir, f), "utf8"))
        .join("\n");
      const pkg = /^package ([\w.]+);/m.exec(text)?.[1];
      const services = [...text.matchAll(/^service (\w+)/gm)].map((m) => `${pkg}.${m[1]}`);
      assert.ok(services.includes(s.health), `${s.health} not in ${services.join(", ")}`);
    });
  }
});
