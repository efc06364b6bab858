/**
 * `npm run bootstrap -- [--config <file>] [--kubeconfig <file>] [--installer <file|https URL>]
 * [--dry-run] [--wait <duration>] [--skip-proxmox-checks]`: prepares the management cluster
 * for CozyStack with the paas-proxmox bundle, or for profile cozystack-v1.6 applies our
 * v1.x packages (see src/kube/bootstrap). Every output line is
 * redacted: the Proxmox token secret never reaches the terminal.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderBundle } from "../bundles/index.js";
import { ConfigError, resolveTenantSecrets } from "../config/index.js";
import { clientFromKubeconfig, type KubeClient } from "../kube/index.js";
import { bootstrap, loadInstallerManifest, redactor, type InstallerManifest, type ProxmoxPreflight } from "../kube/bootstrap/index.js";
import { failedChecks, parseDuration, runStage } from "../stages/index.js";
import { runCommand } from "./command.js";
import type { CliIo } from "./command.js";
import { openSession, UsageError, type Session } from "./proxmox-session.js";

export const bootstrapUsage = `usage: npm run bootstrap -- [options]
  --config <file>          platform.yaml (default: the built-in default config)
  --kubeconfig <file>      management cluster (default: $KUBECONFIG, then ~/.kube/config)
  --installer <file|URL>   CozyStack installer manifest to apply after the bootstrap objects (URL: https only)
  --dry-run                print the plan (checked by the server), change nothing
  --wait <duration>        wait this long for the system HelmReleases (profile cozystack-v1.6: our Packages)
                           to be Ready, e.g. 30m
                           (default: 30m with --installer, else no wait; 0 = no wait)
  --skip-proxmox-checks    do not run stage 1 (Proxmox API connection) as a preflight`;

const defaultWaitMs = 30 * 60 * 1000;

interface BootstrapArgs {
  readonly config?: string;
  readonly kubeconfig: string;
  readonly installer?: string;
  readonly dryRun: boolean;
  readonly waitMs: number;
  readonly skipProxmoxChecks: boolean;
}

function parseBootstrapArgs(argv: readonly string[], env: CliIo["env"]): BootstrapArgs | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      kubeconfig: { type: "string" },
      installer: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      wait: { type: "string" },
      "skip-proxmox-checks": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  let waitMs = values.installer ? defaultWaitMs : 0;
  if (values.wait !== undefined) {
    const parsed = parseDuration(values.wait);
    if (parsed === undefined || parsed < 0) throw new UsageError(`--wait: ${JSON.stringify(values.wait)} is not a duration (e.g. 90s, 30m, 1h, 0)`);
    waitMs = parsed;
  }
  const kubeconfig = values.kubeconfig ?? env.KUBECONFIG?.split(":").find(Boolean) ?? join(homedir(), ".kube", "config");
  return {
    config: values.config,
    kubeconfig,
    installer: values.installer,
    dryRun: values["dry-run"],
    waitMs,
    skipProxmoxChecks: values["skip-proxmox-checks"],
  };
}

/** Stage 1 (Proxmox API connection) as bootstrap's Proxmox preflight. */
export function stageOnePreflight(session: Session): ProxmoxPreflight {
  return async (config) => {
    const result = await runStage(1, {
      config,
      api: session.api,
      configuredUrl: session.connection.configuredUrl,
      tls: session.connection.tls,
      timeouts: session.timeouts,
      secrets: session.secrets,
    });
    const failed = failedChecks(result);
    return { ok: result.verdict !== "failed", failures: failed.map((c) => `${c.title}: ${c.reason ?? "failed"}`) };
  };
}

/** The tenants' own token secrets, a usage error (exit 2) naming the source when one cannot be read. */
async function tenantSecretsOf(session: Session, env: CliIo["env"]): Promise<Record<string, string>> {
  try {
    return await resolveTenantSecrets(session.config, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** The command: usage mistakes exit 2 (src/cli/command.ts), a failed bootstrap 1, done 0. Every line redacted. */
export function bootstrapMain(argv: readonly string[], io: CliIo): Promise<number> {
  let secrets: readonly string[] = [];
  const redact = (text: string): string => redactor(secrets)(text);
  const out = (line: string): void => void io.stdout.write(`${redact(line)}\n`);
  const err = (line: string): void => void io.stderr.write(`${redact(line)}\n`);
  const stderr = { write: (text: string): boolean => io.stderr.write(redact(text)) };
  return runCommand("bootstrap", bootstrapUsage, stderr, async () => {
    const args = await asUsageMistake(() => parseBootstrapArgs(argv, io.env));
    if (args === "help") {
      io.stdout.write(`${bootstrapUsage}\n`);
      return 0;
    }
    const session = await asUsageMistake(() => openSession(args.config, io.env));
    secrets = session.secrets;
    try {
      const inputs = await bootstrapInputs(args, session, io.env, err, (more) => (secrets = [...session.secrets, ...more]));
      return await runBootstrap(args, session, inputs, out, err);
    } finally {
      session.api.close();
    }
  });
}

/** A parse error of the command line (shown with the usage), or an unreadable --installer, --wait or kubeconfig, as a usage mistake. */
function usageMistakeOf(error: unknown): unknown {
  if (error instanceof UsageError) return error;
  if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    return new UsageError(error.message, { cause: error, showUsage: true });
  }
  if (error instanceof Error && /^(--installer|--wait|kubeconfig):/.test(error.message)) return new UsageError(error.message, { cause: error });
  return error;
}

async function asUsageMistake<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw usageMistakeOf(error);
  }
}

interface BootstrapInputs {
  readonly tenantTokenSecrets: Record<string, string>;
  readonly installer: InstallerManifest | undefined;
  readonly client: KubeClient;
}

/** The tenants' token secrets (handed to `addSecrets` for redaction at once), the installer manifest, the cluster client. */
function bootstrapInputs(
  args: BootstrapArgs,
  session: Session,
  env: CliIo["env"],
  err: (line: string) => void,
  addSecrets: (secrets: readonly string[]) => void,
): Promise<BootstrapInputs> {
  return asUsageMistake(async () => {
    const tenantTokenSecrets = await tenantSecretsOf(session, env);
    addSecrets(Object.values(tenantTokenSecrets));
    const installer = args.installer ? await loadInstallerManifest(args.installer) : undefined;
    const client = clientFromKubeconfig(args.kubeconfig, (warning, about) => err(`warning (${about}): ${warning}`));
    return { tenantTokenSecrets, installer, client };
  });
}

/** The bootstrap itself: 0 done, 1 with the reason on any failure. */
async function runBootstrap(args: BootstrapArgs, session: Session, inputs: BootstrapInputs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  try {
    const tls = session.connection.tls;
    if (tls.fingerprint && !tls.caFile && !tls.insecure) {
      err("note: capmox, the CSI plugin and the CCM cannot pin a certificate fingerprint; they verify against a CA (give proxmox.tls.caFile)");
    }
    await bootstrap({
      client: inputs.client,
      config: session.config,
      bundle: () => renderBundle(session.config),
      credentials: {
        tokenSecret: session.connection.secret,
        tenantTokenSecrets: inputs.tenantTokenSecrets,
        ...(tls.caFile ? { caPem: readFileSync(tls.caFile, "utf8") } : {}),
      },
      installer: inputs.installer,
      dryRun: args.dryRun,
      waitTimeoutMs: args.waitMs,
      proxmoxPreflight: args.skipProxmoxChecks ? undefined : stageOnePreflight(session),
      log: out,
    });
    out(args.dryRun ? "dry run done: nothing was changed" : "bootstrap done");
    return 0;
  } catch (error) {
    // A BootstrapError's message already names the step; any other failure is reported the same way.
    err(`bootstrap: ${(error as Error).message}`);
    return 1;
  }
}
