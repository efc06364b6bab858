/**
 * Validation stages: the runner, the check model, timeouts as data, the reporters, and
 * stages 1 (Proxmox API connection) and 2 (network and storage).
 */
export * from "./model.js";
export { runChecks, redact, toCheckResult, type CheckSpec, type RunEvent, type RunListener, type RunChecksOptions } from "./runner.js";
export { criteria, defaultTimeouts, formatDuration, parseDuration, resolveTimeouts, TimeoutConfigError, type TimeoutKey, type Timeouts } from "./timeouts.js";
export { StageContext, majorOf, type StageInput } from "./input.js";
export { failedChecks, notRunnableReason, runStage, runStages, stageCatalog, stageInfo, type StageInfo, type StageNeeds, type StageNumber } from "./registry.js";
export { stripApiPath, checkUrl } from "./stage1/url.js";
export { renderJson, JSON_REPORT_FORMAT } from "./reporters/json.js";
export { renderJunit, xmlEscape } from "./reporters/junit.js";
export { createProgress, renderTable, type TerminalOptions } from "./reporters/terminal.js";
export { writeReports, reportFileName, type ReportFormat } from "./reporters/write.js";
export { driveSizeGiB, lookupTemplate, type TemplateLookup } from "./stage2/template.js";
export { resolveConnection, ConnectionError, type Connection } from "./connection.js";
export { checkPlacementOnly } from "./stage2/placement.js";
