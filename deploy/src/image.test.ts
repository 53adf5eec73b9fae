// Starts Concord from the built image with `buildah run` and asks its health service. Opt-in, because building the
// image takes minutes: CONCORD_IMAGE_TEST=1 (the image must exist: deploy/scripts/build-image.sh, or also set
// CONCORD_IMAGE_BUILD=1 to build it first). CONCORD_IMAGE names the image (default localhost/concord:dev).
// Postgres and NATS come from DATABASE_URL / NATS_URL (else the local servers); processes in the container share the
// host's network (chroot isolation), so they reach them on loopback.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createTestDatabase, type TestDatabase } from "@concord/db";
import * as grpc from "@grpc/grpc-js";
import { CONCORD_SERVICES, DEPLOY_DIR } from "./index";

const run = promisify(execFile);
const enabled = process.env.CONCORD_IMAGE_TEST === "1";
const image = process.env.CONCORD_IMAGE ?? "localhost/concord:dev";
const buildah = ["--storage-driver", process.env.CONCORD_BUILDAH_STORAGE_DRIVER ?? "vfs"];
const repo = join(DEPLOY_DIR, "..");
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const tokenSecret = "image-test-token-secret-0123456789";

interface Started {
  address: string;
  stop(): Promise<void>;
}

/** `buildah run` in the container; resolves with the gRPC address once the process says it serves. */
function startInImage(container: string, args: string[], env: Record<string, string>): Promise<Started> {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const child: ChildProcess = spawn(
    "buildah",
    [...buildah, "run", "--isolation", "chroot", "--network", "host", ...envArgs, container, "--", ...args],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(" ")} did not start within 120 s:\n${output}`));
    }, 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The all-in-one prints a banner; a standalone service logs {"address":...,"msg":"serving"}, the gateway
      // {"address":...,"msg":"gateway serving"}.
      const address =
        /SERVING on (\S+)/.exec(output)?.[1] ??
        /"address":"([^"]+)"[^\n]*"msg":"(?:gateway )?serving"/.exec(output)?.[1];
      if (address) {
        clearTimeout(deadline);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ address, stop });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(deadline);
      reject(new Error(`${args.join(" ")} exited (${code}) before serving:\n${output}`));
    });
  });
}

/** grpc.health.v1 Check through the image's own health script, run on the host (as a probe would). */
async function health(address: string, service: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [
      join(DEPLOY_DIR, "image/health-check.mjs"),
      address,
      service,
    ]);
    return stdout.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout?.trim() ?? ""} ${e.stderr?.trim() ?? ""}`.trim();
  }
}

/** One unary call with an empty request and raw bytes, optionally with a bearer token; resolves with its status. */
function rawCall(address: string, path: string, token?: string): Promise<grpc.status> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);
  const raw = (b: Buffer) => b;
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      path,
      raw,
      raw,
      Buffer.alloc(0),
      metadata,
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve(err?.code ?? grpc.status.OK);
      },
    ),
  );
}

if (enabled) {
  describe(`image ${image}`, () => {
    let container = "";
    let db: TestDatabase;

    before(async () => {
      if (process.env.CONCORD_IMAGE_BUILD === "1") {
        await run(join(DEPLOY_DIR, "scripts/build-image.sh"), [], {
          env: { ...process.env, IMAGE: image },
          timeout: 45 * 60_000,
          maxBuffer: 256 * 1024 * 1024,
        });
      }
      container = (await run("buildah", [...buildah, "from", "--pull=never", image])).stdout.trim();
      db = await createTestDatabase();
      await db.sql.end();
    });

    after(async () => {
      if (container) await run("buildah", [...buildah, "rm", container]).catch(() => undefined);
      await db?.drop();
    });

    test("runs as a non-root user", async () => {
      const { stdout } = await run("buildah", [
        ...buildah,
        "run",
        "--isolation",
        "chroot",
        container,
        "--",
        "id",
        "-u",
      ]);
      assert.notEqual(stdout.trim(), "0");
    });

    test("`concord migrate` applies the migrations (the migration Job's command)", async () => {
      const { stdout } = await run("buildah", [
        ...buildah,
        "run",
        "--isolation",
        "chroot",
        "--network",
        "host",
        "--env",
        `DATABASE_URL=${db.url}`,
        container,
        "--",
        "concord",
        "migrate",
      ]);
      assert.doesNotMatch(stdout, /error/i);
    });

    test("`concord controller` (all in one) answers SERVING for the whole server", async () => {
      const p = await startInImage(container, ["concord", "controller"], {
        CONCORD_ADDR: "127.0.0.1:0",
        CONCORD_METRICS_ADDR: "127.0.0.1:0",
        DATABASE_URL: db.url,
        NATS_URL: natsUrl,
        CONCORD_TOKEN_SECRET: tokenSecret,
      });
      try {
        assert.equal(await health(p.address, ""), "SERVING");
        const inside = await run("buildah", [
          ...buildah,
          "run",
          "--isolation",
          "chroot",
          "--network",
          "host",
          container,
          "--",
          "concord",
          "health",
          p.address,
        ]);
        assert.equal(inside.stdout.trim(), "SERVING");
      } finally {
        await p.stop();
      }
    });

    // A service whose main.ts is not written yet is not in the image either.
    for (const s of CONCORD_SERVICES.filter((x) =>
      existsSync(join(repo, "services", x.name, "src/main.ts")),
    )) {
      test(`\`concord ${s.name}\` (standalone) answers SERVING for ${s.health}`, async () => {
        const p = await startInImage(container, ["concord", s.name], {
          // The service applies its own migrations: this tests the service, `concord migrate` is tested above.
          CONCORD_MIGRATE: "1",
          CONCORD_ADDR: "127.0.0.1:0",
          CONCORD_METRICS_ADDR: "127.0.0.1:0",
          DATABASE_URL: db.url,
          NATS_URL: natsUrl,
          CONCORD_TOKEN_SECRET: tokenSecret,
        });
        try {
          assert.equal(await health(p.address, ""), "SERVING");
          assert.equal(await health(p.address, s.health), "SERVING");
        } finally {
          await p.stop();
        }
      });
    }

    // The gateway forwards to a relation service started from the image, through the dns resolver (as in the
    // cluster, where dns:///concord-relation:17100 names the headless Service); the other three backends are
    // unreachable, which the gateway tolerates: its health is its own, a call to a missing backend is UNAVAILABLE.
    test("`concord gateway` answers SERVING and forwards calls to a service started from the image", async () => {
      const env = {
        CONCORD_MIGRATE: "1",
        CONCORD_ADDR: "127.0.0.1:0",
        CONCORD_METRICS_ADDR: "127.0.0.1:0",
        DATABASE_URL: db.url,
        NATS_URL: natsUrl,
        CONCORD_TOKEN_SECRET: tokenSecret,
      };
      const relation = await startInImage(container, ["concord", "relation"], env);
      let gateway: Started | undefined;
      try {
        const relationPort = relation.address.split(":").pop();
        gateway = await startInImage(container, ["concord", "gateway"], {
          ...env,
          CONCORD_RELATION_ADDR: `dns:///localhost:${relationPort}`,
          CONCORD_LEADERSHIP_ADDR: "dns:///localhost:1",
          CONCORD_METERSTATUS_ADDR: "dns:///localhost:1",
          CONCORD_MULTIWATCHER_ADDR: "dns:///localhost:1",
        });
        assert.equal(await health(gateway.address, ""), "SERVING");
        const token = (
          await run("buildah", [
            ...buildah,
            "run",
            "--isolation",
            "chroot",
            "--env",
            `CONCORD_TOKEN_SECRET=${tokenSecret}`,
            container,
            "--",
            "concord",
            "token",
            "issue",
            "admin",
          ])
        ).stdout.trim();
        const listModels = "/concord.relation.v1.ModelService/ListModels";
        assert.equal(await rawCall(gateway.address, listModels, token), grpc.status.OK);
        // The relation service, not the gateway, authenticates: the token travels with the call.
        assert.equal(await rawCall(gateway.address, listModels), grpc.status.UNAUTHENTICATED);
        assert.equal(
          await rawCall(gateway.address, "/concord.leadership.v1.LeadershipService/ClaimLeadership", token),
          grpc.status.UNAVAILABLE,
        );
      } finally {
        await gateway?.stop();
        await relation.stop();
      }
    });
  });
}
