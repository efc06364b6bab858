/**
 * Config problems: every issue names the field path and the value. Secret material is
 * redacted before it can reach a message.
 */
import type { ConfigIssue } from "./types.js";

export type PathSegment = string | number;

/** `["tenants", 0, "name"]` → `tenants[0].name`. */
export function formatPath(segments: readonly PathSegment[]): string {
  return segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`))
    .join("");
}

const redacted = "[redacted]";

/** The value as it may appear in a message: token secrets never do. */
export function redact(path: string, value: unknown): unknown {
  if (path === "proxmox.secret" && (typeof value !== "object" || value === null)) return redacted;
  if (path.startsWith("proxmox.secret") && !/^proxmox\.secret(\.(env|file))?$/.test(path)) return redacted;
  if (path === "proxmox.tokenId" && typeof value === "string" && value.includes("=")) {
    return `${value.slice(0, value.indexOf("="))}=${redacted}`;
  }
  return value;
}

export function issue(segments: readonly PathSegment[], value: unknown, message: string): ConfigIssue {
  const path = formatPath(segments);
  return { path, value: redact(path, value), message };
}

function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per issue: `path: value: message`. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  ${i.path || "(config)"}: ${show(i.value)}: ${i.message}`).join("\n");
}

/** The config could not be used; `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(`${source}: ${count}\n${formatIssues(issues)}`, options);
    this.issues = issues;
    this.source = source;
  }
}
