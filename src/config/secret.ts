/**
 * The Proxmox token secret: read from the environment or a file when a command needs it,
 * never stored in the config, never printed.
 */
import { access, readFile, stat } from "node:fs/promises";
import { ConfigError, issue } from "./errors.js";
import { tenantToken } from "./isolation.js";
import type { ConfigIssue, PlatformConfig, ProxmoxConfig } from "./types.js";

export type Env = Readonly<Record<string, string | undefined>>;

async function readable(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Longest token secret accepted (PVE's are UUIDs, 36 characters). */
export const maxSecretLength = 512;

/**
 * What is wrong with a token secret's text, in words that never quote it. It travels in an
 * HTTP header, so only visible ASCII can be sent; anything else would fail later, on the
 * first request, as an obscure "Invalid character in header content".
 */
export function secretTextProblem(text: string): string | undefined {
  const value = text.trim();
  if (value === "") return "gives an empty secret";
  if (value.length > maxSecretLength) return `gives a secret of ${value.length} characters: a Proxmox token secret is a UUID (36), at most ${maxSecretLength} are accepted`;
  // say what kind of character, never which one or where: that would be part of the secret
  const bad = /[^\x21-\x7e]/.exec(value)?.[0];
  if (bad !== undefined) {
    const kind = bad > "\x7e" ? "a non-ASCII character" : bad === " " || bad === "\t" ? "whitespace" : "a control character";
    return `gives a secret with ${kind}: a Proxmox token secret is a UUID like 0b5f1a4e-…, plain ASCII`;
  }
  if (value.includes('"')) return "gives a secret with a quote character: a Proxmox token secret is a UUID, plain ASCII";
  return undefined;
}

async function fileProblem(file: string): Promise<string | undefined> {
  try {
    const { size } = await stat(file);
    if (size > maxSecretLength * 4) return `holds ${size} bytes: a Proxmox token secret is a UUID (36 characters)`;
    return secretTextProblem(await readFile(file, "utf8"));
  } catch {
    return "cannot be read";
  }
}

/** Problems that stop a command from authenticating to Proxmox; values never include the secret. */
export async function checkCredentials(p: ProxmoxConfig, env: Env): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  if (p.secret.file !== undefined) {
    const problem = (await readable(p.secret.file)) ? await fileProblem(p.secret.file) : "cannot be read";
    if (problem) issues.push(issue(["proxmox", "secret", "file"], p.secret.file, problem));
  }
  if (p.secret.file === undefined && p.secret.env !== undefined) {
    const value = env[p.secret.env];
    const problem = !value ? "names an environment variable that is not set" : secretTextProblem(value);
    if (problem) issues.push(issue(["proxmox", "secret", "env"], p.secret.env, problem.replace(/^gives/, "holds")));
  }
  if (p.tls.caFile !== undefined && !(await readable(p.tls.caFile))) {
    issues.push(issue(["proxmox", "tls", "caFile"], p.tls.caFile, "cannot be read"));
  }
  return issues;
}

/** The token secret, trimmed; throws ConfigError naming the source (never the secret). */
export async function resolveSecret(p: ProxmoxConfig, env: Env): Promise<string> {
  const issues = await checkCredentials({ ...p, tls: { insecure: p.tls.insecure } }, env);
  if (issues.length > 0) throw new ConfigError("proxmox.secret", issues);
  const value = p.secret.file !== undefined ? await readFile(p.secret.file, "utf8") : (env[p.secret.env ?? ""] ?? "");
  const problem = secretTextProblem(value);
  if (problem) {
    const at = p.secret.file !== undefined ? ["proxmox", "secret", "file"] : ["proxmox", "secret", "env"];
    throw new ConfigError("proxmox.secret", [issue(at, p.secret.file ?? p.secret.env, problem)]);
  }
  return value.trim();
}

/**
 * The secrets of the tenants' own tokens (`tenants[].proxmox.tokenId`), by tenant name; throws
 * ConfigError naming each source that fails (never a secret).
 */
export async function resolveTenantSecrets(config: PlatformConfig, env: Env): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  for (const [i, tenant] of config.tenants.entries()) {
    const token = tenantToken(config, tenant);
    if (token.shared) continue;
    try {
      out[tenant.name] = await resolveSecret({ ...config.proxmox, secret: token.secret, tls: { insecure: true } }, env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // the same problems, at the tenant's field
      issues.push(...error.issues.map((found) => ({ ...found, path: found.path.replace(/^proxmox\.secret/, `tenants[${i}].proxmox.secret`) })));
    }
  }
  if (issues.length > 0) throw new ConfigError("tenants[].proxmox.secret", issues);
  return out;
}
