export { allModules } from "./modules";
