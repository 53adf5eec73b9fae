import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { MeterStatusWorkerError } from "./errors";
import type { MeterStatusClient, MeterStatusState, StateReadWriter } from "./types";

/** Name of the isolated worker's state file inside the agent's data dir (spec §8). */
export const STATE_FILE = "meter-status.yaml";

/** A state with nothing in it: what "no state" starts from. */
export function blankState(): MeterStatusState {
  return { code: "", info: "" };
}

/**
 * Serializes a state as Juju's YAML (spec §9): `status-code`, `status-info` always; `disconnected` only when
 * present, and inside it `disconnected-at` / `disconnected-state` only when non-zero.
 */
export function formatState(state: MeterStatusState): string {
  const doc: Record<string, unknown> = { "status-code": state.code, "status-info": state.info };
  if (state.disconnected) {
    const d: Record<string, number> = {};
    if (state.disconnected.disconnectedAt !== 0) d["disconnected-at"] = state.disconnected.disconnectedAt;
    if (state.disconnected.state !== 0) d["disconnected-state"] = state.disconnected.state;
    doc.disconnected = d;
  }
  return stringify(doc);
}

/** Parses the YAML of {@link formatState}; missing keys read as zero values, wrong types are an error. */
export function parseState(text: string): MeterStatusState {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new MeterStatusWorkerError(
      "NotValid",
      `cannot parse meter status state: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (doc === null || doc === undefined) return blankState();
  if (typeof doc !== "object" || Array.isArray(doc)) throw invalid("not a mapping");
  const m = doc as Record<string, unknown>;
  const state: MeterStatusState = { code: str(m, "status-code"), info: str(m, "status-info") };
  const d = m.disconnected;
  if (d !== undefined && d !== null) {
    if (typeof d !== "object" || Array.isArray(d)) throw invalid("disconnected is not a mapping");
    const dm = d as Record<string, unknown>;
    state.disconnected = { disconnectedAt: int(dm, "disconnected-at"), state: int(dm, "disconnected-state") };
  }
  return state;
}

function str(m: Record<string, unknown>, key: string): string {
  const v = m[key];
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw invalid(`${key} is not a string`);
}

function int(m: Record<string, unknown>, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalid(`${key} is not an integer`);
  return v;
}

function invalid(why: string): MeterStatusWorkerError {
  return new MeterStatusWorkerError("NotValid", `cannot parse meter status state: ${why}`);
}

/** The isolated worker's disk-backed state: `<data dir>/meter-status.yaml`, written atomically. */
export class DiskStateFile implements StateReadWriter {
  /** @param path the state file, normally `<data dir>/meter-status.yaml`. */
  constructor(readonly path: string) {}

  /** The parsed state; undefined when the file does not exist. */
  async read(): Promise<MeterStatusState | undefined> {
    const text = await this.readRaw();
    return text === undefined ? undefined : parseState(text);
  }

  /** Replaces the file with the whole state (temporary file, then rename). */
  async write(state: MeterStatusState): Promise<void> {
    const tmp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, formatState(state), { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** The file's content as is; undefined when it does not exist. */
  async readRaw(): Promise<string | undefined> {
    try {
      return await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Deletes the file; a missing file is fine. */
  async remove(): Promise<void> {
    try {
      await unlink(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

/** The connected worker's state, kept on the controller as the unit's `MeterStatusState` YAML string. */
export class ControllerState implements StateReadWriter {
  constructor(
    private readonly client: Pick<MeterStatusClient, "getWorkerState" | "setWorkerState">,
    private readonly unitName: string,
  ) {}

  /** The parsed state; undefined when the controller holds "". */
  async read(): Promise<MeterStatusState | undefined> {
    const text = await this.client.getWorkerState(this.unitName);
    return text === "" ? undefined : parseState(text);
  }

  /** Sends the whole state as one YAML string. */
  async write(state: MeterStatusState): Promise<void> {
    await this.client.setWorkerState(this.unitName, formatState(state));
  }
}
