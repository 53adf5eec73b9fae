import { randomBytes } from "node:crypto";

/** The agent's hook-command socket, as hook tools reach it. */
export interface AgentSocket {
  address: string;
  /** `unix` for a local socket, `tcp` for a remote one. */
  network: "unix" | "tcp";
  /** PEM CA certificate; exported only for a remote (`tcp`) socket. */
  caCert?: string;
}

/** The unit-level facts every hook's environment carries. */
export interface UnitHookEnvOptions {
  /** Unit name, `app/0` (Concord passes the name, not Juju's tag form). */
  unitName: string;
  modelUUID: string;
  modelName?: string;
  /** JUJU_CONTEXT_ID; see {@link newContextId}. */
  contextId?: string;
  agentSocket?: AgentSocket;
}

/** The standard JUJU_* variables of a unit's hook (unit, model, context id, agent socket). */
export function unitHookEnv(options: UnitHookEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    JUJU_UNIT_NAME: options.unitName,
    JUJU_MODEL_UUID: options.modelUUID,
  };
  if (options.modelName !== undefined) env.JUJU_MODEL_NAME = options.modelName;
  if (options.contextId !== undefined) env.JUJU_CONTEXT_ID = options.contextId;
  if (options.agentSocket) {
    env.JUJU_AGENT_SOCKET_ADDRESS = options.agentSocket.address;
    env.JUJU_AGENT_SOCKET_NETWORK = options.agentSocket.network;
    if (options.agentSocket.network === "tcp" && options.agentSocket.caCert !== undefined) {
      env.JUJU_AGENT_CA_CERT = options.agentSocket.caCert;
    }
  }
  return env;
}

/** A hook context id, `<unit name>-<kind>-<n>` with n a random non-negative 63-bit integer (Juju's form). */
export function newContextId(unitName: string, kind: string): string {
  const n = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return `${unitName}-${kind}-${n}`;
}
