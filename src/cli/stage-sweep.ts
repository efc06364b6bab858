/**
 * `npm run test:stage -- --sweep [--yes] [--min-age <duration>] [--kubeconfig <file>] [--config <file>]`:
 * the test tenants that killed runs of stages 3, 4 and 8 left in the management cluster. A dry
 * run by default (like `vm-test --sweep`); with `--yes` each is removed the Kubernetes way: its
 * Cluster deleted, capmox destroying its VMs, then its namespace.
 *
 * Exit codes: 0 nothing failed, 1 a tenant could not be removed, 2 usage or config error.
 */
import { clientFromKubeconfig } from "../kube/index.js";
import { describeLeftover, sweepTenants } from "../stages/stage3/index.js";
import { UsageError, openSession } from "./proxmox-session.js";
import type { CliIo } from "./command.js";

export interface StageSweepArgs {
  readonly config?: string;
  /** The management cluster; required. */
  readonly kubeconfig: string;
  readonly yes: boolean;
  /** Replaces each stage's maximum run time as the age past which a run counts as over. */
  readonly minAgeMs?: number;
}

export async function stageSweepMain(args: StageSweepArgs, io: CliIo): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  let session;
  try {
    session = await openSession(args.config, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      say(`test:stage: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    say(session.summary);
    say(`management cluster: ${args.kubeconfig}`);
    const result = await sweepTenants({
      client: clientFromKubeconfig(args.kubeconfig),
      api: session.api,
      config: session.config,
      timeouts: session.timeouts,
      remove: args.yes,
      ...(args.minAgeMs !== undefined ? { minAgeMs: args.minAgeMs } : {}),
    });
    for (const t of result.leftAlone) say(`left alone, its run may still be under way: ${describeLeftover(t)}; if it is not, add --min-age 0`);
    if (result.found.length === 0) {
      say("no test tenants of earlier stage runs to remove");
      return 0;
    }
    for (const t of result.found) say(`${args.yes ? "" : "would remove "}${describeLeftover(t)}: ${t.holds}${t.vms.length > 0 ? ` (${t.vms.join(", ")})` : ""}`);
    if (!args.yes) {
      say(`dry run: ${result.found.length} test tenant(s) would be removed (each Cluster deleted, capmox destroying its VMs, then the namespace); add --yes to remove them`);
      return 0;
    }
    for (const f of result.failed) say(`FAILED to remove ${describeLeftover(f.tenant)}: ${f.problems.join("; ")}`);
    say(`removed ${result.removed.length} of ${result.found.length} test tenant(s): Clusters deleted, their VMs destroyed by capmox (${result.removed.reduce((n, t) => n + t.vms.length, 0)} VM(s)), namespaces gone`);
    return result.failed.length === 0 ? 0 : 1;
  } finally {
    session.api.close();
  }
}
