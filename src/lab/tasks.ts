/**
 * Worker tasks and UPIDs. A task is created running, waits its configured duration, then
 * runs its `work` (the effect PVE's forked worker has at the end) and stops with `OK` or
 * with the error as exitstatus; the log ends in `TASK OK` or `TASK ERROR: <msg>`.
 */
import type { LabState, LabTask } from "./state.js";

/** UPID fields. */
export interface Upid {
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly type: string;
  readonly id: string;
  readonly authid: string;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");

/** `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with PVE's hex widths. */
export function formatUpid(u: Upid): string {
  return `UPID:${u.node}:${hex8(u.pid)}:${hex8(u.pstart)}:${hex8(u.starttime)}:${u.type}:${u.id}:${u.authid}:`;
}

/** Parses a UPID, or undefined when it is not one. */
export function parseUpid(text: string): Upid | undefined {
  const m = UPID_RE.exec(text);
  if (!m) return undefined;
  return {
    node: m[1] ?? "",
    pid: parseInt(m[3] ?? "0", 16),
    pstart: parseInt(m[4] ?? "0", 16),
    starttime: parseInt(m[5] ?? "0", 16),
    type: m[6] ?? "",
    id: m[7] ?? "",
    authid: m[8] ?? "",
  };
}

/** What a task does. */
export interface TaskSpec {
  readonly node: string;
  readonly type: string;
  readonly id: string;
  readonly authid: string;
  /** Lines logged at once. */
  readonly log?: readonly string[];
  /** The effect (at the end, unless `workAtStart`); throw to fail the task. May return more log lines. */
  readonly work?: (task: LabTask) => readonly string[] | void;
  /**
   * Run `work` as the task starts; the task still ends after its duration. For workers whose
   * effect shows at once, as `qmstart`'s: PVE reports the VM running while the task still runs.
   * @default false
   */
  readonly workAtStart?: boolean;
  /** Cleanup when the task fails (injected or thrown). */
  readonly onError?: (task: LabTask, message: string) => void;
  /** Fail with this message instead of running `work` (fault injection). */
  readonly failWith?: string;
  /** Overrides the configured duration. */
  readonly durationMs?: number;
  /** What the task does to which VM, for the lab's log (`clone 9000 → VM 101 'name' on pve2`); unset: not logged. */
  readonly summary?: string;
}

/** Starts and finishes tasks; owns their timers so `stopAll` leaves nothing behind. */
export class TaskRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Who waits for which task to end (`ended`). */
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly state: LabState;
  private readonly log: (line: string) => void;

  /** `log` gets one line per finished task that has a summary, so a person can watch VMs come and go. */
  constructor(state: LabState, log: (line: string) => void = () => {}) {
    this.state = state;
    this.log = log;
  }

  /** Creates a running task and schedules its end. */
  start(spec: TaskSpec): LabTask {
    const state = this.state;
    const node = state.node(spec.node);
    const now = Math.floor(Date.now() / 1000);
    const pstart = Math.max(0, (now - (node?.bootTime ?? now - 3600)) * 100);
    const upid = formatUpid({
      node: spec.node,
      pid: state.nextPid(),
      pstart,
      starttime: now,
      type: spec.type,
      id: spec.id,
      authid: spec.authid,
    });
    const parsed = parseUpid(upid);
    if (!parsed) throw new Error(`lab produced an invalid UPID ${upid}`);
    const task: LabTask = {
      upid,
      node: spec.node,
      pid: parsed.pid,
      pstart,
      starttime: now,
      type: spec.type,
      id: spec.id,
      authid: spec.authid,
      status: "running",
      log: [...(spec.log ?? [])],
    };
    state.tasks.set(upid, task);
    const early = spec.workAtStart && spec.failWith === undefined ? this.runWork(task, spec) : undefined;
    const duration = spec.durationMs ?? state.timing.taskDurations[spec.type] ?? state.timing.taskDurationMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.finish(task, spec.workAtStart ? { ...spec, work: () => early?.lines, ...(early?.error === undefined ? {} : { failWith: early.error }) } : spec);
    }, duration);
    this.timers.add(timer);
    return task;
  }

  /** Runs the work now: the log lines it returned, or its error. */
  private runWork(task: LabTask, spec: TaskSpec): { lines?: readonly string[]; error?: string } {
    try {
      return { lines: spec.work?.(task) ?? [] };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  /** Runs the task's work now and records its result. */
  private finish(task: LabTask, spec: TaskSpec): void {
    let error: string | undefined = spec.failWith;
    if (error === undefined) {
      try {
        const more = spec.work?.(task);
        if (more) task.log.push(...more);
      } catch (e) {
        error = (e as Error).message;
      }
    }
    if (error !== undefined) {
      const firstLine = error.split("\n")[0] ?? error;
      try {
        spec.onError?.(task, firstLine);
      } catch {
        // cleanup after a failure must not hide the failure itself
      }
      task.log.push(`TASK ERROR: ${firstLine}`);
      task.exitstatus = firstLine;
    } else {
      task.log.push("TASK OK");
      task.exitstatus = "OK";
    }
    task.status = "stopped";
    task.endtime = Math.floor(Date.now() / 1000);
    if (spec.summary) this.log(`${spec.summary}: ${task.exitstatus}`);
    this.wake(task.upid);
  }

  private wake(upid: string): void {
    for (const resolve of this.waiters.get(upid) ?? []) resolve();
    this.waiters.delete(upid);
  }

  /**
   * Settles once the task has stopped, or after `timeoutMs`, or when the lab stops: the task
   * as it is then (still running on a timeout). Told by `finish`, never polling.
   */
  async ended(upid: string, timeoutMs: number): Promise<LabTask | undefined> {
    if (this.state.tasks.get(upid)?.status === "running") {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.set(upid, [...(this.waiters.get(upid) ?? []), resolve]);
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    return this.state.tasks.get(upid);
  }

  /** Cancels every pending task timer (lab shutdown). */
  stopAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const upid of [...this.waiters.keys()]) this.wake(upid);
  }
}
