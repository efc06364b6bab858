/**
 * The Proxmox token secret: read from the environment or a file when a command needs it,
 * never stored in the config, never printed.
 */
import { access, readFile } from "node:fs/promises";
import { ConfigError, issue } from "./errors.js";
import type { ConfigIssue, ProxmoxConfig } from "./types.js";

export type Env = Readonly<Record<string, string | undefined>>;

async function readable(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Problems that stop a command from authenticating to Proxmox; values never include the secret. */
export async function checkCredentials(p: ProxmoxConfig, env: Env): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  if (p.secret.file !== undefined && !(await readable(p.secret.file))) {
    issues.push(issue(["proxmox", "secret", "file"], p.secret.file, "cannot be read"));
  }
  if (p.secret.file === undefined && p.secret.env !== undefined && !env[p.secret.env]) {
    issues.push(issue(["proxmox", "secret", "env"], p.secret.env, "names an environment variable that is not set"));
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
  if (value.trim() === "") {
    const at = p.secret.file !== undefined ? ["proxmox", "secret", "file"] : ["proxmox", "secret", "env"];
    throw new ConfigError("proxmox.secret", [issue(at, p.secret.file ?? p.secret.env, "gives an empty secret")]);
  }
  return value.trim();
}
