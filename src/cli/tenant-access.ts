/**
 * `npm run tenant-access -- [--config <file>] [--apply] [--secrets-dir <dir>]`
 *
 * Prints, per tenant with its own token, the Proxmox steps that isolate it (pool, user,
 * privilege-separated token, ACLs with PVE's built-in roles) as `pveum` commands. With
 * `--apply` it performs them through the API with the administrator token given for this run
 * only (PROXMOX_TOKEN and PROXMOX_SECRET, or the config's proxmox.tokenId and secret); each
 * step looks first, so a second run changes nothing. A new token's secret goes only to the
 * file the tenant's `proxmox.secret.file` names, or `<secrets-dir>/<tenant>.secret`.
 *
 * Exit codes: 0 done (or printed), 1 a step failed, 2 usage or config error.
 */
import { join, resolve } from "node:path";
import { ConfigError, loadConfig, tenantToken, type PlatformConfig } from "../config/index.js";
import { redactor } from "../kube/bootstrap/index.js";
import { applyPlan, pveumCommand, templateIds, tenantPlans, type StepResult, type TenantPlan } from "../tenancy/index.js";
import { parseCommandLine, runCommand, withUsage } from "./command.js";
import { openSession, UsageError, type Session } from "./proxmox-session.js";
import type { CliIo } from "./command.js";

export const tenantAccessUsage = `usage: npm run tenant-access -- [--config <file>] [--apply] [--secrets-dir <dir>]

  (no flag)          print each isolated tenant's steps as pveum commands; nothing is changed
  --apply            perform them through the Proxmox API as the administrator token
                     (PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET, or the config's proxmox.*); idempotent
  --secrets-dir <d>  where new token secrets go for tenants whose proxmox.secret is {env: NAME}
                     (<d>/<tenant>.secret, mode 0600); a {file: PATH} source is written at PATH

Secrets are never printed. Exit codes: 0 done, 1 a step failed, 2 usage or config error.`;

interface Args {
  readonly config?: string;
  readonly apply: boolean;
  readonly secretsDir?: string;
}

function parse(argv: readonly string[]): Args | "help" {
  const { values } = parseCommandLine({
    args: [...argv],
    strict: true,
    options: {
      config: { type: "string" },
      apply: { type: "boolean", default: false },
      "secrets-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (values["secrets-dir"] !== undefined && !values.apply) throw new UsageError("--secrets-dir goes with --apply");
  return {
    ...(values.config === undefined ? {} : { config: values.config }),
    apply: values.apply,
    ...(values["secrets-dir"] === undefined ? {} : { secretsDir: resolve(values["secrets-dir"]) }),
  };
}

/** Where each isolated tenant's new secret goes; a usage error before any change when one has nowhere to go. */
function secretFiles(config: PlatformConfig, secretsDir: string | undefined): Map<string, string> {
  const files = new Map<string, string>();
  const homeless: string[] = [];
  config.tenants.forEach((tenant, i) => {
    const token = tenantToken(config, tenant);
    if (token.shared) return;
    if (token.secret.file !== undefined) files.set(tenant.name, token.secret.file);
    else if (secretsDir !== undefined) files.set(tenant.name, join(secretsDir, `${tenant.name}.secret`));
    else homeless.push(`tenants[${i}].proxmox.secret is {env: ${token.secret.env}}: give --secrets-dir <dir> (then export ${token.secret.env}="$(cat <dir>/${tenant.name}.secret)")`);
  });
  if (homeless.length > 0) throw new UsageError(`nowhere to write a new token's secret:\n  ${homeless.join("\n  ")}`);
  return files;
}

function printPlan(plans: readonly TenantPlan[], templateNote: string | undefined, say: (line: string) => void): void {
  for (const plan of plans) {
    say(`# tenant ${plan.tenant}${plan.note ? `: ${plan.note}` : ""}`);
    for (const step of plan.steps) say(pveumCommand(step));
  }
  if (templateNote) say(`# ${templateNote}`);
}

function describe(result: StepResult): string {
  const outcome = result.outcome === "failed" ? "FAILED " : result.outcome === "created" ? "created" : "exists ";
  return `${outcome}  ${pveumCommand(result.step)}${result.detail ? `\n         ${result.detail}` : ""}`;
}

/** Applies the plan with the administrator token: 0 done, 1 when a step failed (or anything else did). */
async function apply(args: Args, session: Session, out: (line: string) => void): Promise<number> {
  try {
    const files = secretFiles(session.config, args.secretsDir);
    out(session.summary);
    const templates = await templateIds(session.config, session.api);
    const plans = tenantPlans(session.config, templates.ids);
    for (const plan of plans) if (plan.note) out(`tenant ${plan.tenant}: ${plan.note}`);
    if (templates.note) out(templates.note);
    const results = await applyPlan(plans.flatMap((p) => p.steps), { api: session.api, secretFile: (t) => files.get(t) ?? "", onStep: (r) => out(describe(r)) });
    const failed = results.filter((r) => r.outcome === "failed").length;
    const created = results.filter((r) => r.outcome === "created").length;
    out(failed > 0 ? `${failed} step(s) failed; ${created} change(s) made` : created > 0 ? `done: ${created} change(s) made` : "done: nothing to change");
    return failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    out(`tenant-access: ${(error as Error).message}`);
    return 1;
  }
}

/** Prints the plan as pveum commands; nothing is contacted but the config's files. */
async function printPlanOf(args: Args, say: (line: string) => void): Promise<number> {
  let config: PlatformConfig;
  try {
    config = await loadConfig(args.config === undefined ? {} : { file: args.config });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  const templates = await templateIds(config, undefined);
  printPlan(tenantPlans(config, templates.ids), templates.note, say);
  return 0;
}

/** The command: usage mistakes exit 2 (src/cli/command.ts, redacted once a session has secrets), a failed step 1, done 0. */
export function tenantAccessMain(argv: readonly string[], io: CliIo): Promise<number> {
  const say = (line: string): void => void io.stdout.write(`${line}\n`);
  let redact = (text: string): string => text;
  const stderr = { write: (text: string): boolean => io.stderr.write(redact(text)) };
  return runCommand("tenant-access", tenantAccessUsage, stderr, async () => {
    const args = withUsage(() => parse(argv));
    if (args === "help") {
      say(tenantAccessUsage);
      return 0;
    }
    if (!args.apply) return printPlanOf(args, say);
    const session = await openSession(args.config, io.env);
    redact = redactor(session.secrets);
    try {
      return await apply(args, session, (line) => say(redact(line)));
    } finally {
      session.api.close();
    }
  });
}
