/**
 * The QEMU guest agent: answers once a VM with `agent: 1` has booted (after the scenario's
 * agentBootDelayMs). Errors are PVE's: `No QEMU guest agent configured`, `VM <id> is not
 * running`, `QEMU guest agent is not running` (go-proxmox's WaitForAgent polls on that one).
 */
import type { Handler, HandlerContext } from "../context.js";
import { businessError } from "../errors.js";
import { getProperty, parsePropertyString } from "../property-string.js";
import type { LabExec, LabVm } from "../state.js";
import { agentEnabled, nicMac } from "./vm-common.js";

/** The VM, checked to have a configured, running, booted agent. */
function agentVm(ctx: HandlerContext): LabVm {
  const vm = ctx.state.vmOn(ctx.need("node"), ctx.int("vmid") ?? 0);
  if (!agentEnabled(vm)) throw businessError("No QEMU guest agent configured");
  if (vm.status !== "running") throw businessError(`VM ${vm.vmid} is not running`);
  if (vm.qmpstatus === "paused" || vm.agentReadyAt === undefined || Date.now() < vm.agentReadyAt) {
    throw businessError("QEMU guest agent is not running");
  }
  return vm;
}

const ping: Handler = (ctx) => {
  agentVm(ctx);
  return { result: {} };
};

const osinfo: Handler = (ctx) => {
  agentVm(ctx);
  return { result: { ...ctx.state.agent.osinfo } };
};

/** The guest address of a NIC: `ipconfigN` `ip=` when static, else derived from the VMID. */
function nicAddress(ctx: HandlerContext, vm: LabVm, index: number): { ip: string; prefix: number } {
  const ip = getProperty(parsePropertyString(vm.config[`ipconfig${index}`] ?? ""), "ip");
  const m = ip === undefined ? null : /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(ip);
  if (m) return { ip: m[1] ?? "", prefix: Number(m[2]) };
  return { ip: `${ctx.state.agent.ipPrefix}.${20 + ((vm.vmid + index) % 230)}`, prefix: 24 };
}

function ipv6LinkLocal(mac: string): string {
  const b = mac.toLowerCase().split(":").map((h) => parseInt(h, 16));
  const first = ((b[0] ?? 0) ^ 2).toString(16);
  const hex = (x: number | undefined): string => (x ?? 0).toString(16).padStart(2, "0");
  return `fe80::${first}${hex(b[1])}:${hex(b[2])}ff:fe${hex(b[3])}:${hex(b[4])}${hex(b[5])}`.replace(/:0+([0-9a-f])/g, ":$1");
}

const interfaces: Handler = (ctx) => {
  const vm = agentVm(ctx);
  const stats = { "rx-bytes": 1000, "rx-packets": 10, "rx-errs": 0, "rx-dropped": 0, "tx-bytes": 1000, "tx-packets": 10, "tx-errs": 0, "tx-dropped": 0 };
  const result: Array<Record<string, unknown>> = [
    {
      name: "lo",
      "hardware-address": "00:00:00:00:00:00",
      "ip-addresses": [
        { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
        { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
      ],
      statistics: stats,
    },
  ];
  const nics = Object.keys(vm.config)
    .filter((k) => /^net\d+$/.test(k))
    .map((k) => Number(k.slice(3)))
    .sort((a, b) => a - b);
  nics.forEach((n, i) => {
    const mac = nicMac(vm.config[`net${n}`] ?? "") ?? "00:00:00:00:00:00";
    const addr = nicAddress(ctx, vm, n);
    result.push({
      name: `eth${i}`,
      "hardware-address": mac.toLowerCase(),
      "ip-addresses": [
        { "ip-address": addr.ip, "ip-address-type": "ipv4", prefix: addr.prefix },
        { "ip-address": ipv6LinkLocal(mac), "ip-address-type": "ipv6", prefix: 64 },
      ],
      statistics: stats,
    });
  });
  return { result };
};

/** What a command prints: scenario answers first, then a few built-ins. */
function runCommand(ctx: HandlerContext, vm: LabVm, argv: readonly string[]): Omit<LabExec, "pid" | "doneAt"> | undefined {
  const line = argv.join(" ");
  const canned = ctx.state.agent.commands.find((c) => c.command === line);
  if (canned) return { exitcode: canned.exitcode ?? 0, out: canned.out ?? "", err: canned.err ?? "" };
  const [cmd, ...args] = argv;
  switch (cmd) {
    case "cloud-init":
      if (args[0] === "status") return { exitcode: 0, out: "status: done\n", err: "" };
      return { exitcode: 2, out: "", err: `usage: cloud-init [-h] [--version] ...\n` };
    case "echo":
      return { exitcode: 0, out: `${args.join(" ")}\n`, err: "" };
    case "hostname":
      return { exitcode: 0, out: `${vm.config["name"] ?? `vm${vm.vmid}`}\n`, err: "" };
    case "true":
      return { exitcode: 0, out: "", err: "" };
    case "false":
      return { exitcode: 1, out: "", err: "" };
    case "cat":
      if (args[0] === "/etc/hostname") return { exitcode: 0, out: `${vm.config["name"] ?? `vm${vm.vmid}`}\n`, err: "" };
      return { exitcode: 1, out: "", err: `cat: ${args[0] ?? ""}: No such file or directory\n` };
    default:
      return undefined;
  }
}

const exec: Handler = (ctx) => {
  const vm = agentVm(ctx);
  const argv = ((ctx.params["command"] as unknown[] | undefined) ?? []).map(String);
  const result = runCommand(ctx, vm, argv);
  if (!result) {
    throw businessError(
      `Agent error: Guest agent command failed, error was 'Failed to execute child process “${argv[0] ?? ""}” (No such file or directory)'`,
    );
  }
  const pid = 1000 + vm.execs.size + Math.floor(ctx.state.random() * 1000) * 10;
  vm.execs.set(pid, { pid, doneAt: Date.now() + Math.min(200, ctx.state.timing.taskDurationMs), ...result });
  return { pid };
};

const execStatus: Handler = (ctx) => {
  const vm = agentVm(ctx);
  const pid = ctx.int("pid") ?? 0;
  const run = vm.execs.get(pid);
  if (!run) throw businessError(`Agent error: Invalid parameter 'pid'`);
  if (Date.now() < run.doneAt) return { exited: 0 };
  return {
    exited: 1,
    exitcode: run.exitcode,
    ...(run.out === "" ? {} : { "out-data": run.out }),
    ...(run.err === "" ? {} : { "err-data": run.err }),
  };
};

export const agentHandlers: Record<string, Handler> = {
  "POST /nodes/{node}/qemu/{vmid}/agent/ping": ping,
  "GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo": osinfo,
  "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces": interfaces,
  "POST /nodes/{node}/qemu/{vmid}/agent/exec": exec,
  "GET /nodes/{node}/qemu/{vmid}/agent/exec-status": execStatus,
};
