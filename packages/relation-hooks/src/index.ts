export { CreatedRelations, type RelationCreatedOptions, RelationCreatedSource } from "./created";
export { DyingHookSource, type DyingHookSourceOptions } from "./dying-source";
export { RelationHooksError, type RelationHooksErrorKind } from "./errors";
export {
  applicationChangedHook,
  applicationOf,
  HookKind,
  hookName,
  isHookKind,
  relationHook,
  unitHook,
} from "./hook";
export { HookQueue } from "./hook-queue";
export { LiveHookSource } from "./live-source";
export { Relationer, type RelationerConfig, type RelationScope } from "./relationer";
export { State } from "./state";
export { memberFileContent, memberFileName, readAllStateDirs, readStateDir, StateDir } from "./state-dir";
export type { HookInfo, HookSource, RelationUnitsChange, StateData, Version } from "./types";
