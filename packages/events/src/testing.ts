import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@concord/db";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const DEFAULT_URL = "nats://127.0.0.1:4222";

/** A NATS server a test started and may stop and restart. */
export interface TestNatsServer {
  url: string;
  /** Stops the server (SIGTERM, as a rolling restart would). */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same port with the same JetStream store. */
  restart(): Promise<void>;
  /** Starts it again after stop(). */
  start(): Promise<void>;
}

/**
 * Starts a private JetStream-enabled nats-server on a free loopback port with its store in a temporary folder,
 * removed (and the server killed) when the process exits. Tests that kill or restart NATS use their own server
 * so the shared one is never touched.
 */
export async function startNatsServer(): Promise<TestNatsServer> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "concord-test-nats-"));
  let child: ChildProcess | undefined;
  const kill = () => child?.kill("SIGKILL");
  process.once("exit", () => {
    kill();
    rmSync(store, { recursive: true, force: true });
  });
  const server: TestNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      child = await spawnNats(port, store);
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    },
    async restart() {
      await server.stop();
      await server.start();
    },
  };
  await server.start();
  return server;
}

async function spawnNats(port: number, store: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Server is ready")) {
        child.stderr?.off("data", onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`nats-server exited with ${code}: ${output}`)));
  });
  return child;
}

function isReachable(url: string): Promise<boolean> {
  const u = new URL(url.split(",")[0] as string);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: u.hostname, port: Number(u.port || 4222), timeout: 2000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

let shared: Promise<string> | undefined;

/**
 * The NATS server tests share: NATS_URL, else the local server on 4222, else a private server started for this
 * process. With CONCORD_REQUIRE_SERVICES=1 (CI) an unreachable configured NATS_URL is an error, never a skip.
 */
export function testNatsUrl(): Promise<string> {
  shared ??= (async () => {
    const configured = process.env.NATS_URL;
    if (configured) {
      if (await isReachable(configured)) return configured;
      if (process.env.CONCORD_REQUIRE_SERVICES === "1")
        throw new Error(`NATS_URL ${configured} is not reachable`);
    }
    if (await isReachable(DEFAULT_URL)) return DEFAULT_URL;
    return (await startNatsServer()).url;
  })();
  return shared;
}

const created = new Set<string>();

/**
 * A stream name no other test uses, so tests on a shared server never see each other's events (use it as the
 * log's namespace too). Remembered for {@link dropTestStreams}.
 */
export function testStreamName(): string {
  const name = `CONCORD_TEST_${process.pid}_${randomBytes(4).toString("hex").toUpperCase()}`;
  created.add(name);
  return name;
}

/** Deletes the streams this process named with {@link testStreamName} from the shared test server. */
export async function dropTestStreams(): Promise<void> {
  if (created.size === 0) return;
  const nc = await connectNats({ servers: (await testNatsUrl()).split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of created) await jsm.streams.delete(name).catch(() => {});
    created.clear();
  } finally {
    await nc.close();
  }
}

/**
 * Options for a NATS event log of one test: the shared test server, a unique stream and subject namespace.
 * Pass to `openEventLog` (or spread `{ url: natsUrl, stream, namespace }` into `openNatsLog`).
 */
export async function testEventLogConfig(): Promise<{ natsUrl: string; stream: string; namespace: string }> {
  const stream = testStreamName();
  return { natsUrl: await testNatsUrl(), stream, namespace: stream };
}
