export { parseTemplate, TemplateError } from "./parse.js";
export { Executor, isTruthy, printValue, type TemplateFunction } from "./exec.js";
export { baseFunctions, deepMerge, goJson, readYaml, TemplateFailure, writeYaml } from "./functions.js";
