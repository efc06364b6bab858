/** Platform config: the contract types, defaults, loading and checks, the editor schema. */
export * from "./types.js";
export { defaults, defaultConfig, defaultNamespace, defaultNodeGroup, defaultTenant } from "./defaults.js";
export { ConfigError, formatIssues, formatPath } from "./errors.js";
export { checkConfigText, loadConfig, parseConfig, type LoadConfigOptions } from "./load.js";
export { printConfig, toUserForm } from "./print.js";
export { configJsonSchema } from "./schema.js";
export { checkCredentials, resolveSecret, resolveTenantSecrets, secretTextProblem, type Env } from "./secret.js";
export { validateConfig } from "./validate.js";
export { contains, formatIpv4, overlaps, parseCidr, parseIpv4, single, subnetOf, type NumericRange } from "./ipv4.js";
export { durationSeconds, nodeStartupTimeoutProblem } from "./duration.js";
export { isolationIssues, tenantPool, tenantToken, vmIdsNeeded } from "./isolation.js";
