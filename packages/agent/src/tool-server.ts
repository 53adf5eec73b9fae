// The agent's hook-command socket: hook tools connect to it, name their hook context and get the command's
// output back (Juju's jujuc protocol, in one JSON line each way).
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { HookContext } from "./hook-context";
import { runTool, TOOL_NAMES, type ToolResult } from "./tool-commands";

/** A hook tool's request: its context, the command (the name it was run as) and its arguments. */
export interface ToolRequest {
  contextId: string;
  command: string;
  args: string[];
}

// Requests are one line; anything longer is not a hook tool talking.
const MAX_REQUEST_BYTES = 1 << 20;

/** The client every hook tool runs (plain JavaScript, so a tool starts without tsx). */
export const HOOK_TOOL_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), "../tools/hook-tool.mjs");

/** Serves hook tools on a unix socket for the hook contexts registered while their hook runs. */
export class ToolServer {
  readonly #contexts = new Map<string, HookContext>();
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  /** Registers the context of a hook about to run; the returned function unregisters it. */
  register(ctx: HookContext): () => void {
    this.#contexts.set(ctx.id, ctx);
    return () => this.#contexts.delete(ctx.id);
  }

  /** Listens on `path` (a stale socket file from a killed agent is replaced). */
  async listen(path: string): Promise<void> {
    await rm(path, { force: true });
    const server = createServer((socket) => this.#serve(socket));
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(path, () => {
        server.off("error", fail);
        ok();
      });
    });
    await chmod(path, 0o700);
    this.#server = server;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((ok) => server.close(() => ok()));
  }

  /** Answers one request. */
  async handle(request: ToolRequest): Promise<ToolResult> {
    const ctx = this.#contexts.get(request.contextId);
    if (!ctx) {
      return {
        code: 1,
        stdout: "",
        stderr: `ERROR bad request: unknown context ${JSON.stringify(request.contextId)}\n`,
      };
    }
    return runTool(ctx, request.command, request.args);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const nl = buffer.indexOf("\n");
      if (nl < 0) {
        if (buffer.length > MAX_REQUEST_BYTES) socket.destroy();
        return;
      }
      socket.off("data", onData);
      void this.#answer(buffer.slice(0, nl)).then((result) => socket.end(`${JSON.stringify(result)}\n`));
    };
    socket.on("data", onData);
  }

  async #answer(line: string): Promise<ToolResult> {
    let request: ToolRequest;
    try {
      const raw = JSON.parse(line) as Partial<ToolRequest>;
      if (typeof raw.contextId !== "string" || typeof raw.command !== "string" || !Array.isArray(raw.args))
        throw new Error("missing fields");
      request = { contextId: raw.contextId, command: raw.command, args: raw.args.map(String) };
    } catch (err) {
      return { code: 1, stdout: "", stderr: `ERROR bad request: ${(err as Error).message}\n` };
    }
    try {
      return await this.handle(request);
    } catch (err) {
      return { code: 1, stdout: "", stderr: `ERROR ${(err as Error).message}\n` };
    }
  }
}

/**
 * Writes one executable per hook tool into `dir` (put on the hook's PATH). Each runs the tool client with
 * this Node binary, naming the command it stands for.
 */
export async function installTools(dir: string, nodePath = process.execPath): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of TOOL_NAMES) {
    const file = join(dir, name);
    const script = `#!/bin/sh\nexec ${shellQuote(nodePath)} ${shellQuote(HOOK_TOOL_SCRIPT)} ${name} "$@"\n`;
    // Replaced atomically: a hook of a previous agent run may be calling the tool right now.
    await writeFile(`${file}.tmp`, script, { mode: 0o755 });
    await rename(`${file}.tmp`, file);
  }
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
