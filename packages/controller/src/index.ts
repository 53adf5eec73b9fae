export { addRoutes, SERVICE_CONTRACTS } from "./gateway";
export { allModules } from "./modules";
export { type Stack, type StackOptions, startStack } from "./stack";
