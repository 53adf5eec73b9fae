export { RelationError, type RelationErrorKind } from "./domain/errors";
export { migrationsFolder, relationModule } from "./module";
export { applicationService, modelService, relationService, toConcordError } from "./server";
export { RelationState } from "./store/state";
export type { ApplicationView, RelationView, UnitView } from "./store/types";
