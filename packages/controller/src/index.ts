export { allModules } from "./modules";
export { addRoutes, SERVICE_CONTRACTS } from "./gateway";
export { startStack, type Stack, type StackOptions } from "./stack";
