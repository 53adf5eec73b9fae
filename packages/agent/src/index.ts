// Public face of @concord/agent: the unit agent's parts, for tests and embedding.
export { type AgentDeps, runAgent, socketPathFor } from "./agent";
export { type AgentConfig, AgentConfigError, loadAgentConfig, parseFlags, usage } from "./config";
export {
  type ContextLeadership,
  type ContextRelation,
  HookContext,
  type HookContextOptions,
  ToolError,
} from "./hook-context";
export { AgentLeadership, type AgentLeadershipConfig, type LeadershipBackend } from "./leadership";
export { type AgentMeterStatus, type AgentMeterStatusConfig, startMeterStatus } from "./meter-status";
export { grpcRelationApi, type RelationApiOptions, relationInfo, relationUnitsChange } from "./relation-api";
export { grpcLeadershipBackend, grpcMeterStatusClient, type ServiceClientOptions } from "./service-clients";
export { servedServices, servesPackage } from "./services";
export { runTool, TOOL_NAMES, type ToolResult } from "./tool-commands";
export { HOOK_TOOL_SCRIPT, installTools, type ToolRequest, ToolServer } from "./tool-server";
export type * from "./types";
export {
  DEFAULT_RETRY,
  type LeadershipHook,
  type MeterStatusSource,
  type RetryPolicy,
  Uniter,
  type UniterConfig,
  type UniterLeadership,
  type UniterOutcome,
} from "./uniter";
