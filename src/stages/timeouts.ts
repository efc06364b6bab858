/**
 * Every timeout and poll interval the stages and the VM test use, in one table.
 *
 * Values are milliseconds. The platform config may override any entry under
 * `stages.timeouts` (a number of milliseconds or a duration string such as `90s`, `4m`,
 * `500ms`); unknown keys and non-positive values are rejected naming the key.
 */

export const defaultTimeouts = {
  /** Limit for one check unless the check has its own entry below. */
  "check.default": 30_000,
  /** TLS handshake probe. */
  "check.tls": 10_000,
  /** The whole latency sampling check. */
  "check.latency": 60_000,
  /** Scanning every VM's config (and guest agent) for addresses in the IP ranges. */
  "check.ip-ranges": 120_000,
  /** One API request (passed to the client). */
  "api.request": 15_000,

  /** Clone task, from the clone call until the task ends. */
  "vm.clone": 180_000,
  /** Config update (CPU, memory, NIC, tags). */
  "vm.configure": 60_000,
  /** Disk resize. */
  "vm.resize": 60_000,
  /** Start task. */
  "vm.start": 120_000,
  /** Guest agent answering after start. */
  "vm.agent": 240_000,
  /** Reading back config and status. */
  "vm.verify": 30_000,
  /** Stop task. */
  "vm.stop": 120_000,
  /** Destroy task. */
  "vm.destroy": 120_000,
  /** Whole cleanup of one VM (stop, wait for locks, destroy, confirm gone), retries included. */
  "vm.cleanup": 300_000,

  /** Stage 3: applying the test tenant until its first Machine is Provisioned (criterion: 5 min). */
  "capi.provision": 300_000,
  /** Stage 3: scaling the test tenant's MachineDeployment to 3 until all are Provisioned. */
  "capi.scale": 300_000,
  /** Stage 4: applying the test tenant until every Machine is Running with a Ready Node. */
  "capi.join": 600_000,
  /** Stage 3: deleting the test tenant until its VMs and ISOs are gone in Proxmox. */
  "capi.delete": 300_000,

  /** Stage 5: the test PVC bound and its volume in Proxmox (upstream's CSI test allows 300 s). */
  "csi.bind": 300_000,
  /** Stage 5: the writer pod ended and the reader pod Ready (image pull, attach, mount). */
  "csi.pod": 240_000,
  /** Stage 5: pods and PVC deleted until the PV is gone and the disk checked in Proxmox. */
  "csi.delete": 180_000,
  /** Stages 6 and 7: test server pods Ready (image pull included). */
  "workload.ready": 180_000,
  /** Stage 6: one network policy check, its probe pods and the policy taking effect. */
  "netpol.probe": 180_000,
  /** Stage 6: the LoadBalancer Service gets an address, and the address answers. */
  "lb.address": 120_000,
  /** Stage 7: a new pod's metrics appear in the metrics stack (a few scrape intervals). */
  "metrics.appear": 300_000,
  /** Stages 5 to 7: deleting the run's namespaces until they are gone. */
  "workload.cleanup": 180_000,
  /** Stage 8: applying the test tenant's Kubernetes object until its HelmRelease is Ready (chart fetched and installed). */
  "lifecycle.create": 300_000,
  /** Stage 8: the PVC workload in the new tenant (CSI plugin up, then stage 5's bind, write-read and delete). */
  "lifecycle.workload": 900_000,

  /** Poll interval for task status. */
  "poll.task": 500,
  /** Poll interval for the guest agent. */
  "poll.agent": 2_000,
  /** Pause between retries of a failed cleanup or a transient API error. */
  "poll.retry": 1_000,
  /** Interval between queries while waiting for metrics to appear (queries, not watches: a metrics API has no watch). */
  "poll.metrics": 10_000,
} as const;

export type TimeoutKey = keyof typeof defaultTimeouts;
export type Timeouts = Readonly<Record<TimeoutKey, number>>;

/** Success criteria from the plan the project follows (not overridable: they are the bar). */
export const criteria = {
  /** API response time, compared with the p95 of sampled requests. */
  apiLatencyMs: 2_000,
  /** VM creation (clone until running and, unless skipped, the guest agent answering). */
  vmCreationMs: 300_000,
} as const;

/** A bad `stages.timeouts` entry. */
export class TimeoutConfigError extends Error {
  override readonly name = "TimeoutConfigError";
  constructor(
    readonly path: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`${path}: ${message} (got ${JSON.stringify(value)})`);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `90s`, `4m`, `1h`, `1m30s` or a number of milliseconds. Returns undefined when malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] ?? 0), 0);
}

/** The table with the config's overrides applied. */
export function resolveTimeouts(overrides: Readonly<Record<string, unknown>> = {}): Timeouts {
  const table: Record<string, number> = { ...defaultTimeouts };
  for (const [key, raw] of Object.entries(overrides)) {
    const path = `stages.timeouts.${key}`;
    if (!(key in defaultTimeouts)) {
      throw new TimeoutConfigError(path, raw, `unknown timeout; known keys: ${Object.keys(defaultTimeouts).join(", ")}`);
    }
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) {
      throw new TimeoutConfigError(path, raw, "expected a positive number of milliseconds or a duration like 90s, 4m, 500ms");
    }
    table[key] = ms;
  }
  return table as Timeouts;
}

/** `1.2 s`, `340 ms`, `4 min 5 s`: how durations appear in reasons and tables. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/**
 * Time left for a wait inside a check limited to `limitMs` that began at `started`: what
 * the limit leaves after `reserveMs` (by default a fifth of the limit, at most 10 s) for the
 * diagnosis or the steps that follow; at least 1 s.
 */
export function timeLeft(limitMs: number, started: number, reserveMs = Math.min(10_000, limitMs / 5)): number {
  return Math.max(1_000, Math.round(limitMs - reserveMs - (performance.now() - started)));
}
