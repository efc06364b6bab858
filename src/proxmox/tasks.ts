/**
 * PVE tasks: UPID parsing and waiting for a task to stop.
 *
 * A UPID names the node the task runs on; its status must be polled there (clone tasks run
 * on the source node, whatever the target).
 */
import type { ProxmoxApi, WaitForTaskOptions } from "./api.js";
import { ProxmoxApiError, ProxmoxConfigError, ProxmoxTaskError } from "./errors.js";
import { sleep } from "./retry.js";
import type { TaskResult, UpidInfo } from "./types.js";

// UPID:$node:%08X pid:%08X pstart (may be 9 digits):%08X starttime:$type:$id:$user:
const upidPattern =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Parses a UPID; throws naming the value when it is not one. */
export function parseUpid(upid: string): UpidInfo {
  const m = upidPattern.exec(typeof upid === "string" ? upid : "");
  if (!m) throw new ProxmoxConfigError("upid", `'${String(upid)}' is not a PVE task id (UPID:node:pid:pstart:starttime:type:id:user:)`);
  return {
    upid,
    node: m[1]!,
    pid: Number.parseInt(m[2]!, 16),
    pstart: Number.parseInt(m[3]!, 16),
    starttime: Number.parseInt(m[4]!, 16),
    type: m[5]!,
    id: m[6]!,
    user: m[7]!,
  };
}

/** Whether a value is a UPID. */
export function isUpid(value: unknown): value is string {
  return typeof value === "string" && upidPattern.test(value);
}

/** Warnings count of an exit status: 0 for `OK`, n for `WARNINGS: n`, undefined for a failure. */
export function warningsOf(exitstatus: string): number | undefined {
  if (exitstatus === "OK") return 0;
  const m = /^WARNINGS: (\d+)$/.exec(exitstatus);
  return m ? Number(m[1]) : undefined;
}

export const defaultWaitOptions = Object.freeze({
  timeoutMs: 600_000,
  pollIntervalMs: 100,
  maxPollIntervalMs: 5_000,
  logTailLines: 20,
  failOnWarnings: false,
});

type TaskApi = Pick<ProxmoxApi, "taskStatus" | "taskLogTail">;

/** Polls `GET /nodes/{node}/tasks/{upid}/status` on the UPID's node until the task stops. */
export async function waitForTask(api: TaskApi, upid: string, options: WaitForTaskOptions = {}): Promise<TaskResult> {
  const info = parseUpid(upid);
  const opts = { ...defaultWaitOptions, ...options };
  const deadline = Date.now() + opts.timeoutMs;
  let interval = opts.pollIntervalMs;
  for (;;) {
    const status = await api.taskStatus(upid, info.node);
    if (status.status === "stopped") {
      const exitstatus = status.exitstatus ?? "unknown";
      const warnings = warningsOf(exitstatus);
      if (warnings !== undefined && !(opts.failOnWarnings && warnings > 0)) {
        return { upid, node: info.node, type: info.type, id: info.id, exitstatus, warnings, status };
      }
      throw new ProxmoxTaskError({
        upid,
        node: info.node,
        taskType: info.type,
        exitstatus,
        logTail: await logTailOrNote(api, upid, opts.logTailLines),
      });
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ProxmoxApiError({
        kind: "timeout",
        path: `/nodes/${info.node}/tasks/${upid}/status`,
        hint: `task ${info.type} ${upid} still running after ${opts.timeoutMs} ms`,
      });
    }
    await sleepOrAbort(Math.min(interval, left), options.signal, upid);
    interval = Math.min(opts.maxPollIntervalMs, Math.round(interval * 1.5));
  }
}

async function sleepOrAbort(ms: number, signal: AbortSignal | undefined, upid: string): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (cause) {
    throw new ProxmoxApiError({ kind: "aborted", hint: `stopped waiting for ${upid}`, cause });
  }
}

/** The log tail, or a note saying why it is missing (the task's failure matters more). */
async function logTailOrNote(api: TaskApi, upid: string, lines: number): Promise<string[]> {
  if (lines <= 0) return [];
  try {
    return await api.taskLogTail(upid, lines);
  } catch (error) {
    return [`(task log unavailable: ${(error as Error).message})`];
  }
}
