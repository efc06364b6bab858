/**
 * Config problems: every issue names the field path and the value. Secret material is
 * redacted before it can reach a message.
 */
import { limits } from "./limits.js";
import type { ConfigIssue } from "./types.js";

export type PathSegment = string | number;

const maxSegment = 100;

function segmentText(s: string): string {
  return s.length > maxSegment ? `${s.slice(0, maxSegment)}…(${s.length} characters)` : s;
}

/**
 * `["tenants", 0, "name"]` → `tenants[0].name`. Very long keys are shortened; keys inside a
 * secret (`secret: {…}`) are hidden like its values.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  const hideFrom = isSecretPointer(segments) ? -1 : segments.findIndex((s) => typeof s === "string" && sensitiveKey.test(s));
  return segments
    .map((s, i) =>
      typeof s === "number"
        ? `[${s}]`
        : hideFrom >= 0 && i > hideFrom
          ? redacted
          : /^[A-Za-z_$][\w$]*$/.test(s) && s.length <= maxSegment
            ? i === 0
              ? s
              : `.${s}`
            : `[${JSON.stringify(segmentText(s))}]`,
    )
    .join("");
}

const redacted = "[redacted]";

/** Keys whose values are secret wherever they appear: `secret`, `password`, `bootstrapToken`… (not `tokenId`). */
const sensitiveKey = /(secret|password|passwd|passphrase|token|credentials?|api[-_]?key|private[-_]?key)s?$/i;

/** proxmox.secret's own fields say where the secret is, not what it is. */
function isSecretPointer(segments: readonly PathSegment[]): boolean {
  return segments.length === 3 && segments[0] === "proxmox" && segments[1] === "secret" && (segments[2] === "env" || segments[2] === "file");
}

function isSensitive(segments: readonly PathSegment[]): boolean {
  return !isSecretPointer(segments) && segments.some((s) => typeof s === "string" && sensitiveKey.test(s));
}

/** `scheme://user:password@host` → `scheme://[redacted]@host`, anywhere in a text. */
export function scrubUserinfo(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:[\\/]*)[^\s\\/?#]*@/g, `$1${redacted}@`);
}

/** Most nodes and characters an issue keeps of a value: the message shows 80 characters of it anyway. */
const previewNodes = 40;
const previewChars = 200;

function redactString(segments: readonly PathSegment[], text: string): string {
  if (segments.length === 2 && segments[0] === "proxmox" && segments[1] === "tokenId" && text.includes("=")) {
    return `${scrubUserinfo(text.slice(0, text.indexOf("=")))}=${redacted}`;
  }
  const short = text.length > previewChars ? `${text.slice(0, previewChars)}…(${text.length} characters)` : text;
  return scrubUserinfo(short);
}

/**
 * The value as it may appear in a message: secrets never do (by key name, at any depth; URL
 * userinfo in any string), and a big value is cut to a small preview so a message costs the
 * same whatever the input.
 */
export function redact(segments: readonly PathSegment[], value: unknown): unknown {
  let budget = previewNodes;
  const walk = (at: PathSegment[], v: unknown): unknown => {
    budget -= 1;
    if (v === null || v === undefined) return v;
    if (typeof v !== "object") return isSensitive(at) ? redacted : typeof v === "string" ? redactString(at, v) : v;
    let entries: [PathSegment, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v as object);
    if (!Array.isArray(v) && isSensitive(at)) {
      // inside a secret its keys are hidden too (only proxmox.secret's env and file are not secret)
      const shown = entries.filter(([k]) => !isSensitive([...at, k]));
      entries = shown.length < entries.length ? [...shown, [redacted, redacted]] : shown;
    }
    const kept: [PathSegment, unknown][] = [];
    for (const [k, x] of entries) {
      if (budget <= 0) break;
      kept.push([k, walk([...at, k], x)]);
    }
    const more = entries.length - kept.length;
    if (Array.isArray(v)) return [...kept.map(([, x]) => x), ...(more > 0 ? [`…${more} more`] : [])];
    return Object.fromEntries([...kept, ...(more > 0 ? [["…", `${more} more`]] : [])]);
  };
  return walk([...segments], value);
}

export function issue(segments: readonly PathSegment[], value: unknown, message: string): ConfigIssue {
  return { path: formatPath(segments), value: redact(segments, value), message };
}

/** A problem of the YAML document at `segments` (its syntax, size or aliases), where no value can be shown. */
export function documentIssue(segments: readonly PathSegment[], message: string): ConfigIssue {
  return { path: formatPath(segments), value: undefined, message, documentLevel: true };
}

function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  // JSON has no Infinity or NaN: show them as they are, not as null
  const text = typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per issue: `path: value: message`; past the limit, a count of the rest. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  const listed = issues.slice(0, limits.maxListedIssues).map((i) => `  ${i.path || "(config)"}: ${i.documentLevel ? "" : `${show(i.value)}: `}${i.message}`);
  const more = issues.length - listed.length;
  return [...listed, ...(more > 0 ? [`  … and ${more} more problems`] : [])].join("\n");
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
