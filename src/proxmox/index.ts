/**
 * Proxmox VE API client: the `ProxmoxApi` interface the operate layer depends on, its
 * typed results, the HTTP implementation and the pure helpers (UPIDs, errors, retries,
 * privilege checks).
 */
export type * from "./api.js";
export type * from "./types.js";
export { HttpProxmoxApi, createProxmoxClient, defaultTimeoutMs } from "./client.js";
export {
  clientOptionsFromEnv,
  normalizeBaseUrl,
  parseEnvBoolean,
  type EnvMap,
  type ProxmoxClientOptions,
  type ProxmoxLogEvent,
  type ProxmoxLogger,
} from "./options.js";
export { Secret, TokenCredentials, parseTokenId, REDACTED, type TokenIdParts } from "./auth.js";
export { normalizeFingerprint, resolveTlsMode, tlsGuidance, type TlsMode, type TlsOptions } from "./tls.js";
export {
  ProxmoxApiError,
  ProxmoxConfigError,
  ProxmoxTaskError,
  errorFromResponse,
  isLocked,
  isNotFound,
  kindForStatus,
  type ProxmoxErrorKind,
  type ProxmoxApiErrorProps,
  type ProxmoxTaskErrorProps,
} from "./errors.js";
export { backoffDelay, defaultRetryPolicy, resolveRetryPolicy, retryDecision, type RetryDecision } from "./retry.js";
export { defaultWaitOptions, isUpid, parseUpid, waitForTask, warningsOf } from "./tasks.js";
export { missingPrivileges, privilegesAt, type MissingPrivilege, type PrivilegeRequirement } from "./access.js";
export { buildUploadBody } from "./upload.js";
export { encodeParams } from "./http.js";
export { apiPath } from "./requester.js";
export { smbiosUuid } from "./qemu.js";
