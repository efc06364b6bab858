/**
 * Power state: status/current and the start/stop/shutdown/reboot/reset/suspend/resume tasks.
 * Failures PVE raises inside the worker (locked, template, already running, missing bridge)
 * end the task with `TASK ERROR: ...`; the few synchronous ones answer 500.
 */
import type { Handler, HandlerContext } from "../context.js";
import { businessError } from "../errors.js";
import type { LabState, LabVm } from "../state.js";
import { agentEnabled, checkLock, isTemplate, nicBridge, vmStats } from "./vm-common.js";

function vmOf(ctx: HandlerContext): LabVm {
  return ctx.state.vmOn(ctx.need("node"), ctx.int("vmid") ?? 0);
}

const current: Handler = (ctx) => {
  const vm = vmOf(ctx);
  const stats = vmStats(vm);
  const out: Record<string, unknown> = {
    vmid: vm.vmid,
    name: vm.config["name"] ?? `VM ${vm.vmid}`,
    status: vm.status,
    qmpstatus: vm.qmpstatus,
    ...stats,
    memhost: stats["mem"],
    ha: { managed: 0 },
  };
  if (agentEnabled(vm)) out["agent"] = 1;
  if (vm.config["lock"] !== undefined) out["lock"] = vm.config["lock"];
  if (vm.config["tags"] !== undefined) out["tags"] = vm.config["tags"];
  if (vm.config["template"] === "1") out["template"] = 1;
  if (vm.config["serial0"] !== undefined) out["serial"] = 1;
  if (vm.status === "running") {
    const maxmem = stats["maxmem"] ?? 0;
    Object.assign(out, {
      pid: vm.pid,
      balloon: maxmem,
      freemem: maxmem - (stats["mem"] ?? 0),
      ballooninfo: { actual: maxmem, max_mem: maxmem, free_mem: maxmem - (stats["mem"] ?? 0), total_mem: maxmem },
      nics: Object.fromEntries(
        Object.keys(vm.config)
          .filter((k) => /^net\d+$/.test(k))
          .map((k) => [`tap${vm.vmid}i${k.slice(3)}`, { netin: stats["netin"], netout: stats["netout"] }]),
      ),
      blockstat: Object.fromEntries(
        Object.keys(vm.config)
          .filter((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k) && !/media=cdrom/.test(vm.config[k] ?? ""))
          .map((k) => [k, { rd_bytes: stats["diskread"], wr_bytes: stats["diskwrite"], rd_operations: 0, wr_operations: 0 }]),
      ),
      "running-machine": "pc-i440fx-9.2+pve1",
      "running-qemu": "9.2.0",
      "proxmox-support": { "pbs-dirty-bitmap": true, "query-bitmap-info": true },
    });
  }
  return out;
};

/** Re-reads the VM when the task runs (it may have been deleted or moved meanwhile). */
function liveVm(state: LabState, node: string, vmid: number): LabVm {
  const vm = state.vms.get(vmid);
  if (!vm || vm.node !== node) throw new Error(`unable to find configuration file for VM ${vmid} on node '${node}'`);
  return vm;
}

function boot(state: LabState, vm: LabVm): void {
  const now = Date.now();
  vm.status = "running";
  vm.qmpstatus = "running";
  vm.startedAt = now;
  vm.pid = state.nextPid();
  vm.execs.clear();
  vm.agentReadyAt = now + state.timing.agentBootDelayMs;
  state.powerChanged(vm, true);
}

function halt(state: LabState, vm: LabVm): void {
  state.powerOff(vm);
}

/**
 * PVE's worker takes the config lock and checks `lock:` when it starts, so a start issued
 * while a clone still holds `lock: clone` fails even when the clone ends before our task
 * would: the lock seen at request time decides, and the effect re-checks the live VM.
 */
function powerTask(
  ctx: HandlerContext,
  type: string,
  effect: (vm: LabVm) => readonly string[] | void,
  options: { readonly lockChecked?: boolean; readonly atStart?: boolean } = {},
): string {
  const vm = vmOf(ctx);
  const node = vm.node;
  const vmid = vm.vmid;
  ctx.rootOnly("skiplock", "keepActive", "migratedfrom", "stateuri", "targetstorage");
  const lockAtStart = options.lockChecked === false || ctx.flag("skiplock") === true ? undefined : vm.config["lock"];
  return ctx.startTask({
    node,
    type,
    id: String(vmid),
    summary: `${type} VM ${vmid} '${vm.config["name"] ?? ""}' on ${node}`,
    ...(options.atStart ? { workAtStart: true } : {}),
    work: () => {
      if (lockAtStart !== undefined) throw new Error(`VM is locked (${lockAtStart})`);
      return effect(liveVm(ctx.state, node, vmid));
    },
  });
}

const start: Handler = (ctx) =>
  powerTask(ctx, "qmstart", (vm) => {
    checkLock(vm);
    if (isTemplate(vm)) throw new Error("you can't start a vm if it's a template");
    if (vm.status === "running") throw new Error(`VM ${vm.vmid} already running`);
    const node = ctx.state.node(vm.node);
    for (const [key, value] of Object.entries(vm.config)) {
      if (!/^net\d+$/.test(key)) continue;
      const bridge = nicBridge(value);
      if (bridge !== undefined && !node?.bridges.some((b) => b.name === bridge)) {
        throw new Error(`bridge '${bridge}' does not exist`);
      }
    }
    boot(ctx.state, vm);
    const cloudinit = Object.values(vm.config).some((v) => /cloudinit/.test(v));
    return cloudinit ? ["generating cloud-init ISO"] : [];
  }, { atStart: true });

const stop: Handler = (ctx) =>
  powerTask(ctx, "qmstop", (vm) => {
    checkLock(vm);
    halt(ctx.state, vm);
  });

const shutdown: Handler = (ctx) => {
  const vm = vmOf(ctx);
  if (vm.qmpstatus === "paused") throw businessError("VM is paused - cannot shutdown");
  return powerTask(ctx, "qmshutdown", (live) => {
    checkLock(live);
    if (live.status !== "running") throw new Error(`VM ${live.vmid} not running`);
    halt(ctx.state, live);
  });
};

const reboot: Handler = (ctx) => {
  const vm = vmOf(ctx);
  if (vm.status !== "running") throw businessError(`VM ${vm.vmid} not running`);
  return powerTask(ctx, "qmreboot", (live) => {
    checkLock(live);
    halt(ctx.state, live);
    boot(ctx.state, live);
  });
};

const reset: Handler = (ctx) => {
  const vm = vmOf(ctx);
  checkLock(vm);
  if (vm.status !== "running") throw businessError(`VM ${vm.vmid} not running`);
  return powerTask(ctx, "qmreset", (live) => {
    halt(ctx.state, live);
    boot(ctx.state, live);
  });
};

const suspend: Handler = (ctx) =>
  powerTask(ctx, "qmsuspend", (vm) => {
    checkLock(vm);
    if (vm.status !== "running") throw new Error(`VM ${vm.vmid} not running`);
    vm.qmpstatus = "paused";
  });

const resume: Handler = (ctx) =>
  powerTask(
    ctx,
    "qmresume",
    (vm) => {
      if (vm.status !== "running") throw new Error(`VM ${vm.vmid} not running`);
      vm.qmpstatus = "running";
    },
    { lockChecked: false },
  );

export const powerHandlers: Record<string, Handler> = {
  "GET /nodes/{node}/qemu/{vmid}/status/current": current,
  "POST /nodes/{node}/qemu/{vmid}/status/start": start,
  "POST /nodes/{node}/qemu/{vmid}/status/stop": stop,
  "POST /nodes/{node}/qemu/{vmid}/status/shutdown": shutdown,
  "POST /nodes/{node}/qemu/{vmid}/status/reboot": reboot,
  "POST /nodes/{node}/qemu/{vmid}/status/reset": reset,
  "POST /nodes/{node}/qemu/{vmid}/status/suspend": suspend,
  "POST /nodes/{node}/qemu/{vmid}/status/resume": resume,
};
