/**
 * Test tenants that earlier runs of stages 3, 4 and 8 left in the management cluster: a run
 * killed before its cleanup could run (an out-of-memory kill, a closed CI runner, SIGKILL).
 * Each is a namespace `cozy-stage<N>-<run id>` labelled `cozy-proxmox.io/stage<N>-run=<run id>`
 * and annotated with the host and process id of the run.
 *
 * A run cannot be under way any more, and its tenant counts as left behind, when
 * - its process ran on this host and no longer exists, or
 * - its tenant is older than a run of its stage can take: the sum of the stage's check limits
 *   and its cleanup limits from the timeouts table, plus a minute.
 * Anything else may belong to a run still going (here, or on another machine sharing the
 * management cluster) and is left alone.
 */
import type { KubeClient, KubeObject } from "../../kube/index.js";
import { isRunId, runStartedAt } from "../../ownership/index.js";
import { formatDuration, type TimeoutKey, type Timeouts } from "../timeouts.js";
import { runHostAnnotation, runPidAnnotation, tenantRunLabel, thisProcess, type RunProcess } from "./tenant.js";

/** The stages that make a test tenant in the management cluster. */
export type TenantStage = 3 | 4 | 8;
export const tenantStages: readonly TenantStage[] = [3, 4, 8];

/** The limit of each check of a stage, in order (a unit test holds these equal to the stages' check lists). */
export const stageCheckLimits: Readonly<Record<TenantStage, readonly TimeoutKey[]>> = {
  3: ["check.default", "check.default", "capi.delete", "capi.provision", "vm.verify", "capi.scale", "capi.delete"],
  4: ["check.default", "check.default", "capi.delete", "capi.join", "check.default", "check.default", "capi.delete"],
  8: ["check.default", "check.default", "capi.delete", "check.default", "lifecycle.create", "capi.join", "lifecycle.workload", "capi.delete"],
};

/** What a stage's cleanup may take after its checks (stage 8: the workload, its object, then stage 3's cleanup). */
export const stageCleanupLimits: Readonly<Record<TenantStage, readonly TimeoutKey[]>> = {
  3: ["capi.delete"],
  4: ["capi.delete"],
  8: ["workload.cleanup", "capi.delete", "capi.delete"],
};

/** For the runner's own time between checks, and the stage's listings after its waits. */
const slackMs = 60_000;

/** The longest a run of `stage` can take with these timeouts. */
export function maxRunMs(stage: TenantStage, timeouts: Timeouts): number {
  const sum = (keys: readonly TimeoutKey[]): number => keys.reduce((total, key) => total + timeouts[key], 0);
  return sum(stageCheckLimits[stage]) + sum(stageCleanupLimits[stage]) + slackMs;
}

/** A test tenant of an earlier run, and whether that run can still be under way. */
export interface LeftoverTenant {
  readonly namespace: string;
  readonly stage: TenantStage;
  readonly runId: string;
  /** The process that ran it, when its namespace names one. */
  readonly runner?: RunProcess;
  /** Age of the run: the younger of its run id's start time and its namespace's creation. */
  readonly ageMs: number;
  /** `gone`: its process no longer exists; `old`: older than a run can take; `maybe-running`: left alone. */
  readonly state: "gone" | "old" | "maybe-running";
  /** Why, in words: `its process 4242 on this host is gone`. */
  readonly why: string;
}

export interface JudgeOptions {
  readonly now: Date;
  readonly timeouts: Timeouts;
  /** Replaces each stage's maximum run time as the age past which a run counts as over (`--min-age`). */
  readonly minAgeMs?: number;
  /** This process. @default the current one */
  readonly here?: RunProcess;
  /** Whether a process of this host exists. @default a signal-0 probe */
  readonly alive?: (pid: number) => boolean;
}

/** Whether process `pid` exists on this host (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const namePattern = /^cozy-stage([348])-(\d{8}t\d{6}-[0-9a-f]{4})$/;

function runnerOf(ns: KubeObject): RunProcess | undefined {
  const annotations = ns.metadata.annotations ?? {};
  const host = annotations[runHostAnnotation];
  const pid = Number(annotations[runPidAnnotation]);
  return host && Number.isInteger(pid) && pid > 0 ? { host, pid } : undefined;
}

/**
 * The namespace as a test tenant of a run, judged; undefined when it is not one (its name
 * and its run label must agree, so no other namespace is ever taken for one).
 */
export function judgeNamespace(ns: KubeObject, options: JudgeOptions): LeftoverTenant | undefined {
  const match = namePattern.exec(ns.metadata.name);
  if (!match) return undefined;
  const stage = Number(match[1]) as TenantStage;
  const runId = match[2] as string;
  if (!isRunId(runId) || ns.metadata.labels?.[tenantRunLabel(stage)] !== runId) return undefined;
  const now = options.now.getTime();
  const created = Date.parse((ns.metadata as { creationTimestamp?: string }).creationTimestamp ?? "");
  const started = runStartedAt(runId)?.getTime();
  const ages = [created, started].filter((t): t is number => t !== undefined && Number.isFinite(t)).map((t) => now - t);
  const ageMs = Math.max(0, Math.min(...ages));
  const runner = runnerOf(ns);
  const here = options.here ?? thisProcess();
  const alive = options.alive ?? processAlive;
  const base = { namespace: ns.metadata.name, stage, runId, ...(runner ? { runner } : {}), ageMs };
  const sameHost = runner !== undefined && runner.host === here.host;
  if (sameHost && runner.pid !== here.pid && !alive(runner.pid)) {
    return { ...base, state: "gone", why: `its process ${runner.pid} on this host (${runner.host}) is gone` };
  }
  const limit = options.minAgeMs ?? maxRunMs(stage, options.timeouts);
  const limitText = options.minAgeMs === undefined ? `longer than a stage ${stage} run can take (${formatDuration(limit)})` : `older than --min-age ${formatDuration(limit)}`;
  if (ageMs >= limit) return { ...base, state: "old", why: `started ${formatDuration(ageMs)} ago, ${limitText}` };
  const where = runner ? (sameHost ? `by process ${runner.pid} on this host, which is still running` : `on host ${runner.host} (process ${runner.pid})`) : "by an unknown process";
  return { ...base, state: "maybe-running", why: `started ${formatDuration(ageMs)} ago ${where}; a stage ${stage} run can take ${formatDuration(maxRunMs(stage, options.timeouts))}` };
}

/** Every test tenant of an earlier run in the management cluster, judged, oldest first. */
export async function findLeftoverTenants(client: KubeClient, options: JudgeOptions & { readonly excludeRunId?: string }): Promise<LeftoverTenant[]> {
  const namespaces = (await client.list("v1", "Namespace")).items;
  return namespaces
    .map((ns) => judgeNamespace(ns, options))
    .filter((t): t is LeftoverTenant => t !== undefined && t.runId !== options.excludeRunId)
    .sort((a, b) => b.ageMs - a.ageMs || a.namespace.localeCompare(b.namespace));
}
