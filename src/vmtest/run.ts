/**
 * The VM-creation test: on each target node (in parallel), clone the template, configure
 * CPU, memory, NIC and tags, size the boot disk, start, wait for the guest agent, verify
 * config and state through the API, stop, destroy, and confirm nothing is left. Each phase is
 * a check with its time; the time from clone to ready is compared with the 5-minute
 * criterion. Cleanup runs whatever happens, including after the signal aborts the run.
 */
import type { PlatformConfig } from "../config/index.js";
import { ProxmoxApiError, type ProxmoxApi, type QemuConfig } from "../proxmox/index.js";
import {
  type CheckOutcome,
  type CheckResult,
  type Figure,
  type RunListener,
  type StageResult,
  StageContext,
  type Timeouts,
  type TimeoutKey,
  criteria,
  fail,
  formatDuration,
  driveSizeGiB,
  lookupTemplate,
  pass,
  skip,
  stageVerdict,
  toCheckResult,
} from "../stages/index.js";
import { type CleanupResult, type OwnedVm, destroyOwnedVm, manualRemoval } from "./cleanup.js";
import { OWNER_TAG, runTag, splitTags, vmDescription, vmName, vmTags } from "../ownership/index.js";

/** What each test VM gets. */
export interface VmSpec {
  readonly cores: number;
  readonly sockets: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

export interface VmTestInput {
  readonly api: ProxmoxApi;
  readonly config: PlatformConfig;
  /** Nodes to create a VM on (each an allowed node). */
  readonly nodes: readonly string[];
  /** Wait for the guest agent (false: `--no-agent`). */
  readonly agent: boolean;
  readonly runId: string;
  readonly timeouts: Timeouts;
  /** @default the first node group of the first tenant, else 1 socket, 2 cores, 4096 MiB, 20 GiB */
  readonly spec?: VmSpec;
  /** Aborting it (Ctrl-C, SIGTERM) stops the test; cleanup still runs. */
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
  /** Cleanup progress lines. */
  readonly log?: (line: string) => void;
  readonly secrets?: readonly string[];
  /** Attempts at a free VMID when clones race for the same id. @default 5 */
  readonly vmidAttempts?: number;
}

export const VM_TEST_STAGE = "vm-test";
export const VM_TEST_TITLE = "VM creation test";

/** The VM size the generator would give a worker. */
export function specFromConfig(config: PlatformConfig): VmSpec {
  const group = config.tenants[0]?.nodeGroups[0];
  return {
    cores: group?.cores ?? 2,
    sockets: group?.sockets ?? 1,
    memoryMiB: group?.memoryMiB ?? 4096,
    diskGiB: group?.diskGiB ?? 20,
  };
}

const PHASES = ["clone", "configure", "resize", "start", "agent", "verify", "stop", "destroy"] as const;
type Phase = (typeof PHASES)[number];
const PHASE_TIMEOUT: Record<Phase, TimeoutKey> = {
  clone: "vm.clone",
  configure: "vm.configure",
  resize: "vm.resize",
  start: "vm.start",
  agent: "vm.agent",
  verify: "vm.verify",
  stop: "vm.stop",
  destroy: "vm.destroy",
};
const PHASE_TITLE: Record<Phase, string> = {
  clone: "clone the template",
  configure: "set CPU, memory, NIC and tags",
  resize: "size the boot disk",
  start: "start the VM",
  agent: "guest agent answers",
  verify: "config and state as requested",
  stop: "stop the VM",
  destroy: "destroy the VM and its disks",
};
/** Phases that make up "VM creation" for the 5-minute criterion. */
const CREATION: readonly Phase[] = ["clone", "configure", "resize", "start", "agent"];

/** Shared per-run plumbing. */
interface Env {
  readonly input: VmTestInput;
  readonly api: ProxmoxApi;
  readonly timeouts: Timeouts;
  readonly spec: VmSpec;
  readonly template: { readonly vmid: number; readonly node: string; readonly config: QemuConfig };
  readonly emit: RunListener;
}

function nicValue(bridge: string, vlan: number | undefined): string {
  return `virtio,bridge=${bridge}${vlan !== undefined ? `,tag=${vlan}` : ""}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function waitOptions(env: Env, key: TimeoutKey, signal: AbortSignal) {
  return { timeoutMs: env.timeouts[key], pollIntervalMs: env.timeouts["poll.task"], signal };
}

/** One node's VM, phase by phase. */
class NodeRun {
  readonly results: CheckResult[] = [];
  readonly figures: Record<string, Figure> = {};
  /** What cleanup must look at: the VM once the clone was accepted (or possibly accepted). */
  owned: OwnedVm | undefined;
  #destroyed = false;
  #blockedBy: string | undefined;
  readonly name: string;

  constructor(
    readonly env: Env,
    readonly node: string,
  ) {
    this.name = vmName(env.input.runId, node);
  }

  id(phase: string): string {
    return `vm.${this.node}.${phase}`;
  }

  record(id: string, title: string, outcome: CheckOutcome, ms: number): CheckResult {
    const result = toCheckResult({ id, title }, outcome, ms, this.env.input.secrets);
    this.results.push(result);
    this.env.emit({ type: "check-end", stage: VM_TEST_STAGE, result });
    return result;
  }

  /** Runs one phase under its time limit; a failure blocks the phases after it. */
  async phase(
    phase: Phase,
    work: (signal: AbortSignal) => Promise<CheckOutcome>,
    options: { readonly skipReason?: string; readonly blocking?: boolean } = {},
  ): Promise<void> {
    const skipReason = options.skipReason;
    const id = this.id(phase);
    const title = `${PHASE_TITLE[phase]} (${this.node})`;
    this.env.emit({ type: "check-start", stage: VM_TEST_STAGE, id, title });
    if (this.#blockedBy) {
      this.record(id, title, skip(`not run: ${this.#blockedBy} did not pass`, this.#blockedBy), 0);
      return;
    }
    if (skipReason) {
      this.record(id, title, skip(skipReason), 0);
      return;
    }
    const outer = this.env.input.signal;
    const limit = this.env.timeouts[PHASE_TIMEOUT[phase]];
    const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(limit)]) : AbortSignal.timeout(limit);
    const start = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = outer?.aborted ? this.interrupted(phase) : await work(signal);
    } catch (error) {
      if (outer?.aborted) outcome = this.interrupted(phase);
      else if (signal.aborted) {
        outcome = fail(
          `${PHASE_TITLE[phase]} on ${this.node} did not finish within ${formatDuration(limit)}`,
          `look at the task log on ${this.node} (Datacenter → Tasks); if the cluster is just slow, raise stages.timeouts.${PHASE_TIMEOUT[phase]}`,
        );
      } else outcome = this.apiFailure(phase, error);
    }
    const ms = performance.now() - start;
    this.figures[`${phase}Ms`] = Math.round(ms);
    const result = this.record(id, title, outcome, ms);
    // A non-blocking phase (the disk size) leaves a usable VM behind when it fails.
    const interrupted = this.env.input.signal?.aborted === true;
    if (result.verdict === "failed" && (options.blocking !== false || interrupted)) this.#blockedBy = id;
  }

  interrupted(phase: Phase): CheckOutcome {
    return fail(`interrupted during ${PHASE_TITLE[phase]} on ${this.node}`, "run the VM test again; its VMs were cleaned up (see the cleanup check)");
  }

  apiFailure(phase: Phase, error: unknown): CheckOutcome {
    const fixes: Record<Phase, string> = {
      clone: "check the task log of the clone on the template's node; common causes: missing VM.Clone/VM.Allocate/Datastore.AllocateSpace (stage 1 privileges), local storage with another target node (stage 2 template.clone-targets), a full disk storage",
      configure: "check the privileges VM.Config.CPU, VM.Config.Memory, VM.Config.Network, VM.Config.Options and SDN.Use on the bridge (stage 1), and the bridge on this node (stage 2)",
      resize: "check Datastore.AllocateSpace on the disk storage and its free space (stages 1 and 2)",
      start: `check the start task log on ${this.node}: memory available on the node, the bridge exists there, no hardware the node lacks`,
      agent: "install and enable qemu-guest-agent in the template image and set agent: enabled=1 on the template (qm set <template> --agent enabled=1), or run with --no-agent",
      verify: "compare the VM's config with the request; Proxmox changed or dropped a value",
      stop: `check the stop task log on ${this.node}`,
      destroy: `check the destroy task log on ${this.node} and whether a disk is still in use`,
    };
    return fail(`${PHASE_TITLE[phase]} on ${this.node} failed: ${errorText(error)}`, fixes[phase]);
  }

  /** Clones with a fresh VMID, retrying when another client took the id first. */
  async clone(signal: AbortSignal): Promise<CheckOutcome> {
    const { api, template, input } = this.env;
    const p = input.config.proxmox;
    const full = p.fullClone ?? true;
    const attempts = input.vmidAttempts ?? 5;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const newid = await api.nextId();
      this.owned = { vmid: newid, name: this.name, node: this.node };
      let upid: string;
      try {
        upid = await api.cloneVm(template.node, template.vmid, {
          newid,
          name: this.name,
          description: vmDescription(input.runId),
          full,
          ...(this.node !== template.node ? { target: this.node } : {}),
          ...(full ? { storage: p.diskStorage } : {}),
          ...(full && p.diskFormat ? { format: p.diskFormat } : {}),
          ...(p.pool ? { pool: p.pool } : {}),
        });
      } catch (error) {
        if (/already exists/i.test(errorText(error))) {
          // nextid does not reserve: someone else cloned or created with this id first.
          this.owned = undefined;
          this.env.input.log?.(`VMID ${newid} was taken before the clone (${this.node}); trying another`);
          continue;
        }
        // A refusal (400/403/500) means nothing was created; a lost answer may have created it.
        if (error instanceof ProxmoxApiError && ["parameter", "permission", "business", "not-found", "locked", "auth"].includes(error.kind)) {
          this.owned = undefined;
        }
        throw error;
      }
      await api.waitForTask(upid, waitOptions(this.env, "vm.clone", signal));
      return pass(`VM ${newid} (${this.name}) cloned from ${template.vmid} on ${template.node}${attempt > 1 ? ` after ${attempt - 1} VMID race(s)` : ""}`, {
        vmid: newid,
      });
    }
    return fail(
      `no free VMID after ${attempts} attempts: every id /cluster/nextid offered was taken before the clone`,
      "something else creates VMs very fast; run again, or set a next-id range in Datacenter → Options that the other tool does not use",
    );
  }

  async configure(signal: AbortSignal): Promise<CheckOutcome> {
    const { api, spec, input } = this.env;
    const vm = this.owned as OwnedVm;
    const p = input.config.proxmox;
    const changes = {
      tags: vmTags(input.runId),
      cores: spec.cores,
      sockets: spec.sockets,
      memory: spec.memoryMiB,
      net0: nicValue(p.bridge, p.vlan),
    };
    await api.waitForTask(await api.updateVmConfig(this.node, vm.vmid, changes), waitOptions(this.env, "vm.configure", signal));
    return pass(`${spec.sockets}×${spec.cores} vCPU, ${spec.memoryMiB} MiB, net0 ${changes.net0}, tags ${changes.tags}`);
  }

  async resize(signal: AbortSignal): Promise<CheckOutcome> {
    const { api, spec, template, input } = this.env;
    const vm = this.owned as OwnedVm;
    const disk = input.config.proxmox.bootDevice ?? "scsi0";
    const current = driveSizeGiB(template.config[disk]);
    if (template.config[disk] === undefined) {
      return fail(
        `the template has no ${disk}, the boot disk capmox resizes (proxmox.bootDevice)`,
        `set proxmox.bootDevice to the template's boot disk (its config lists ${Object.keys(template.config).filter((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k)).join(", ") || "no disks"})`,
      );
    }
    if (current !== undefined && current > spec.diskGiB) {
      return fail(
        `the template's ${disk} is ${current} GiB, larger than the requested ${spec.diskGiB} GiB; Proxmox cannot shrink disks, so capmox's resize fails and the VM keeps ${current} GiB`,
        `set the node groups' diskGiB to at least ${current}, or build the template with a smaller disk`,
      );
    }
    await api.waitForTask(await api.resizeVmDisk(this.node, vm.vmid, disk, `${spec.diskGiB}G`), waitOptions(this.env, "vm.resize", signal));
    return pass(`${disk} is ${spec.diskGiB} GiB`);
  }

  async start(signal: AbortSignal): Promise<CheckOutcome> {
    const { api } = this.env;
    const vm = this.owned as OwnedVm;
    await api.waitForTask(await api.startVm(this.node, vm.vmid), waitOptions(this.env, "vm.start", signal));
    const status = await api.vmStatus(this.node, vm.vmid);
    if (status.status !== "running") {
      return fail(`the start task finished but VM ${vm.vmid} is ${status.status}`, `look at the start task log and the VM's console on ${this.node}`);
    }
    return pass(`VM ${vm.vmid} running on ${this.node}`);
  }

  async agent(signal: AbortSignal): Promise<CheckOutcome> {
    const { api, timeouts, template } = this.env;
    const vm = this.owned as OwnedVm;
    const configured = String(template.config.agent ?? "0");
    if (!/^(1|enabled=1)/.test(configured)) {
      return fail(
        `the template does not enable the QEMU guest agent (agent: ${configured}); capmox waits for it before it reports the machine ready`,
        `enable it on the template: qm set ${template.vmid} --agent enabled=1 (and install qemu-guest-agent in the image), or run with --no-agent`,
      );
    }
    for (;;) {
      try {
        const info = await api.agentOsInfo(this.node, vm.vmid);
        return pass(`guest agent answers (${String(info["pretty-name"] ?? info.name ?? "unknown OS")})`);
      } catch (error) {
        if (!/guest agent is not running|not running/i.test(errorText(error))) throw error;
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, timeouts["poll.agent"]);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        }, { once: true });
      });
    }
  }

  async verify(): Promise<CheckOutcome> {
    const { api, spec, input } = this.env;
    const vm = this.owned as OwnedVm;
    const p = input.config.proxmox;
    const [config, status, resources] = await Promise.all([
      api.vmConfig(this.node, vm.vmid),
      api.vmStatus(this.node, vm.vmid),
      api.clusterResources("vm"),
    ]);
    const problems: string[] = [];
    const expect = (what: string, actual: unknown, wanted: unknown): void => {
      if (String(actual) !== String(wanted)) problems.push(`${what} is ${String(actual)}, requested ${String(wanted)}`);
    };
    expect("cores", config.cores, spec.cores);
    expect("sockets", config.sockets, spec.sockets);
    expect("memory (MiB)", config.memory, spec.memoryMiB);
    const net0 = String(config.net0 ?? "");
    if (!new RegExp(`(^|,)bridge=${p.bridge}(,|$)`).test(net0)) problems.push(`net0 (${net0}) is not on bridge ${p.bridge}`);
    if (p.vlan !== undefined && !new RegExp(`(^|,)tag=${p.vlan}(,|$)`).test(net0)) problems.push(`net0 (${net0}) is not tagged VLAN ${p.vlan}`);
    // capmox reads the MAC with `=([^,]+),bridge`: the MAC must directly precede the bridge.
    if (!/=([^,]+),bridge/.test(net0)) problems.push(`net0 (${net0}) has no MAC address before bridge= (capmox cannot read it)`);
    const disk = p.bootDevice ?? "scsi0";
    const size = driveSizeGiB(config[disk]);
    // After a failed resize (reported there) the VM keeps the template's size.
    const resized = this.results.find((r) => r.id === this.id("resize"))?.verdict === "passed";
    const wantedSize = resized ? spec.diskGiB : driveSizeGiB(this.env.template.config[disk]);
    if (size !== wantedSize) problems.push(`${disk} is ${size ?? "of unknown size"} GiB, expected ${wantedSize ?? "unknown"}`);
    const tags = splitTags(config.tags);
    if (!tags.includes(OWNER_TAG) || !tags.includes(runTag(input.runId))) problems.push(`tags are '${config.tags ?? ""}', missing ${OWNER_TAG} or the run tag`);
    if (!/(^|,)uuid=[0-9a-fA-F-]{36}/.test(String(config.smbios1 ?? ""))) problems.push("smbios1 has no uuid (capmox's providerID needs it)");
    if (status.status !== "running") problems.push(`status is ${status.status}, expected running`);
    const where = resources.find((r) => r.vmid === vm.vmid)?.node;
    if (where !== this.node) problems.push(`the VM is on ${where ?? "no node"}, expected ${this.node}`);
    if (problems.length > 0) {
      return fail(`VM ${vm.vmid} differs from the request: ${problems.join("; ")}`, "compare with the clone/config task logs on the node; Proxmox changed or dropped these values");
    }
    return pass(`VM ${vm.vmid}: ${spec.sockets}×${spec.cores} vCPU, ${spec.memoryMiB} MiB, ${disk} ${size} GiB, ${net0}, running on ${this.node}`);
  }

  async stop(signal: AbortSignal): Promise<CheckOutcome> {
    const { api } = this.env;
    const vm = this.owned as OwnedVm;
    await api.waitForTask(await api.stopVm(this.node, vm.vmid), waitOptions(this.env, "vm.stop", signal));
    const status = await api.vmStatus(this.node, vm.vmid);
    if (status.status !== "stopped") return fail(`VM ${vm.vmid} is ${status.status} after the stop task`, `stop it by hand: qm stop ${vm.vmid} on ${this.node}`);
    return pass(`VM ${vm.vmid} stopped`);
  }

  async destroy(signal: AbortSignal): Promise<CheckOutcome> {
    const { api, input } = this.env;
    const vm = this.owned as OwnedVm;
    await api.waitForTask(
      await api.deleteVm(this.node, vm.vmid, { purge: true, "destroy-unreferenced-disks": true }),
      waitOptions(this.env, "vm.destroy", signal),
    );
    this.#destroyed = true;
    const still = (await api.clusterResources("vm")).some((r) => r.vmid === vm.vmid);
    if (still) return fail(`VM ${vm.vmid} is still listed after the destroy task`, manualRemoval(vm));
    const volumes = await api.storageContent(this.node, input.config.proxmox.diskStorage, { vmid: vm.vmid });
    if (volumes.length > 0) {
      return fail(
        `VM ${vm.vmid} is gone but its volumes remain on ${input.config.proxmox.diskStorage}: ${volumes.map((v) => v.volid).join(", ")}`,
        `remove them on ${this.node}: ${volumes.map((v) => `pvesm free ${v.volid}`).join("; ")}`,
      );
    }
    return pass(`VM ${vm.vmid} and its disks removed`);
  }

  /** Always runs: removes whatever is left, or confirms nothing is. */
  async cleanup(): Promise<void> {
    const id = this.id("cleanup");
    const title = `nothing left behind (${this.node})`;
    this.env.emit({ type: "check-start", stage: VM_TEST_STAGE, id, title });
    const start = performance.now();
    let outcome: CheckOutcome;
    if (!this.owned) {
      outcome = pass("no VM was created");
    } else {
      const result: CleanupResult = await destroyOwnedVm(this.owned, {
        api: this.env.api,
        timeouts: this.env.timeouts,
        ...(this.env.input.log ? { log: this.env.input.log } : {}),
      });
      if (result.status === "failed") outcome = fail(result.detail, manualRemoval(this.owned));
      else if (this.#destroyed && result.status === "gone") outcome = pass(`VM ${this.owned.vmid} confirmed gone`);
      else outcome = pass(result.detail);
    }
    this.record(id, title, outcome, performance.now() - start);
  }

  /** Clone-to-ready time against the criterion (skipped when creation did not complete). */
  creationTime(agent: boolean): void {
    const id = this.id("creation-time");
    const title = `VM ready within ${formatDuration(criteria.vmCreationMs)} (${this.node})`;
    this.env.emit({ type: "check-start", stage: VM_TEST_STAGE, id, title });
    // The disk resize is not required for a usable VM: a failed resize is reported on its own.
    const phases = CREATION.filter((ph) => (agent || ph !== "agent") && (ph !== "resize" || this.figures.resizeMs !== undefined));
    const failed = phases
      .filter((ph) => ph !== "resize")
      .map((ph) => this.results.find((r) => r.id === this.id(ph)))
      .find((r) => !r || r.verdict !== "passed");
    if (failed) {
      this.record(id, title, skip(`not measured: ${failed.id} did not pass`, failed.blockedBy ?? failed.id), 0);
      return;
    }
    const ms = phases.reduce((sum, ph) => sum + (Number(this.figures[`${ph}Ms`]) || 0), 0);
    this.figures.creationMs = Math.round(ms);
    const figures = { creationMs: Math.round(ms), criterionMs: criteria.vmCreationMs };
    const what = agent ? "clone to guest agent answering" : "clone to running (agent not awaited)";
    this.record(
      id,
      title,
      ms <= criteria.vmCreationMs
        ? pass(`${what}: ${formatDuration(ms)}`, figures)
        : fail(
            `${what} took ${formatDuration(ms)}, over the ${formatDuration(criteria.vmCreationMs)} criterion (${phases.map((ph) => `${ph} ${formatDuration(Number(this.figures[`${ph}Ms`]) || 0)}`).join(", ")})`,
            "the slowest phase above is the lead: a slow disk storage (clone), a busy node (start), or a slow boot (agent)",
            figures,
          ),
      0,
    );
  }

  async run(): Promise<void> {
    const agent = this.env.input.agent;
    try {
      await this.phase("clone", (s) => this.clone(s));
      await this.phase("configure", (s) => this.configure(s));
      await this.phase("resize", (s) => this.resize(s), { blocking: false });
      await this.phase("start", (s) => this.start(s));
      await this.phase("agent", (s) => this.agent(s), agent ? {} : { skipReason: "skipped: --no-agent given" });
      await this.phase("verify", () => this.verify());
      await this.phase("stop", (s) => this.stop(s));
      await this.phase("destroy", (s) => this.destroy(s));
    } finally {
      await this.cleanup();
    }
    this.creationTime(agent);
  }
}

/** Runs the VM test on every target node at once and returns it as a stage result. */
export async function runVmTest(input: VmTestInput): Promise<StageResult> {
  const emit = input.onEvent ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const spec = input.spec ?? specFromConfig(input.config);
  emit({ type: "stage-start", stage: VM_TEST_STAGE, title: VM_TEST_TITLE, checks: 1 + input.nodes.length * (PHASES.length + 2) });
  const ctx = new StageContext({ config: input.config, api: input.api, configuredUrl: input.api.url, tls: {}, timeouts: input.timeouts });

  emit({ type: "check-start", stage: VM_TEST_STAGE, id: "vm.template", title: "template resolved" });
  const lookupStart = performance.now();
  const found = await lookupTemplate(ctx);
  const templateCheck = toCheckResult(
    { id: "vm.template", title: "template resolved" },
    found.ok ? pass(found.how) : found.outcome,
    performance.now() - lookupStart,
    input.secrets,
  );
  emit({ type: "check-end", stage: VM_TEST_STAGE, result: templateCheck });

  const checks: CheckResult[] = [templateCheck];
  const figures: Record<string, Figure> = {};
  if (found.ok) {
    const env: Env = { input, api: input.api, timeouts: input.timeouts, spec, template: found, emit };
    const runs = input.nodes.map((node) => new NodeRun(env, node));
    await Promise.all(runs.map((r) => r.run()));
    for (const r of runs) {
      checks.push(...r.results);
      for (const [k, v] of Object.entries(r.figures)) figures[`${r.node}.${k}`] = v;
    }
    const creations = runs.map((r) => Number(r.figures.creationMs)).filter((n) => Number.isFinite(n));
    if (creations.length > 0) figures.maxCreationMs = Math.max(...creations);
    figures.criterionMs = criteria.vmCreationMs;
  }
  const result: StageResult = {
    stage: VM_TEST_STAGE,
    title: VM_TEST_TITLE,
    verdict: stageVerdict(checks),
    checks,
    startedAt,
    durationMs: Math.round(performance.now() - start),
    figures,
  };
  emit({ type: "stage-end", result });
  return result;
}
