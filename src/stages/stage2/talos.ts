/**
 * Stage 2's check of the platform's Talos template (`proxmox.talosTemplate`), the template of
 * node groups that boot Talos (`bootstrap: talos` in a `Kubernetes` object): found where
 * capmox looks for it, a template, and one Talos can boot from as capmox clones it. Talos
 * groups make capmox skip its guest-agent and cloud-init checks, so no agent is demanded.
 * The Talos bootstrap provider is not served as a Go module: Talos groups are proven by helm
 * render and strict validation, never run through the controllers in this project's tests,
 * and the check says so.
 */
import type { TemplateRef } from "../../config/index.js";
import type { StageContext } from "../input.js";
import { type CheckOutcome, fail, pass } from "../model.js";
import { checkBootOrder, cloudInitDrives } from "./template-logic.js";
import { lookupById, lookupByTags, type TemplateLookup } from "./template.js";

/** QEMU CPU models at x86-64 level 1, on which Talos halts ("x86_64 microarchitecture level 2 or higher is required"). PVE's default is kvm64. */
const levelOneCpus = new Set(["kvm64", "qemu64", "kvm32", "qemu32", "486", "pentium", "pentium2", "pentium3", "coreduo", "core2duo", "athlon", "phenom", "x86-64-v1"]);

/** The CPU model of a PVE `cpu` option (`x86-64-v2-AES,flags=+aes` → `x86-64-v2-AES`); PVE's default when absent. */
export function cpuModel(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") return "kvm64";
  const first = value.split(",")[0]?.trim() ?? "";
  return first.startsWith("cputype=") ? first.slice("cputype=".length) : first.includes("=") ? "kvm64" : first;
}

function lookup(ctx: StageContext, ref: TemplateRef): Promise<TemplateLookup> {
  return ctx.memo("talos-template", () => (ref.kind === "id" ? lookupById(ctx, ref.templateId, ref.sourceNode) : lookupByTags(ctx, ref.tags, ref.matchPolicy)));
}

const notRunHere = "Talos groups are proven by helm render and strict validation only, not run through controllers here (the Talos bootstrap provider is not served as a Go module)";

export async function checkTalosTemplate(ctx: StageContext): Promise<CheckOutcome> {
  const ref = ctx.config.proxmox.talosTemplate;
  if (!ref) return pass(`no proxmox.talosTemplate: Talos node groups must name their own template; ${notRunHere}`);
  const found = await lookup(ctx, ref);
  if (!found.ok) return found.outcome;
  const { vmid, node, config } = found;
  const problems: string[] = [];
  const fixes: string[] = [];
  if (!(config.template === 1 || config.template === true)) {
    problems.push(`VM ${vmid} is an ordinary VM, not a template`);
    fixes.push(`qm template ${vmid}`);
  }
  const cpu = cpuModel(config.cpu);
  if (levelOneCpus.has(cpu.toLowerCase())) {
    problems.push(`its CPU type is ${cpu}${config.cpu === undefined ? " (PVE's default)" : ""}, x86-64 level 1: Talos halts at boot ("x86_64 microarchitecture level 2 or higher is required")`);
    fixes.push(`qm set ${vmid} --cpu x86-64-v2-AES (or host)`);
  }
  if (cloudInitDrives(config).includes("ide0")) {
    problems.push(`it has a PVE cloud-init drive on ide0, where capmox attaches the ISO Talos reads its machine config from (nocloud)`);
    fixes.push(`qm set ${vmid} --delete ide0`);
  }
  const order = checkBootOrder(config.boot);
  if (!order.ok) {
    problems.push(`${order.problem}; capmox appends ';ide0' to it, which PVE rejects unless it is a new-style order=… list`);
    fixes.push(`qm set ${vmid} --boot order=${ctx.config.proxmox.bootDevice ?? "scsi0"}`);
  }
  if (problems.length > 0) return fail(`Talos template ${vmid} on ${node}: ${problems.join("; ")}`, `${fixes.join("; ")} (on ${node})`);
  return pass(`${found.how}: a template with CPU ${cpu}, ide0 free for capmox's nocloud ISO, boot order=${order.ok ? order.order.join(";") : ""}; no guest agent needed (Talos groups skip capmox's agent and cloud-init checks); ${notRunHere}`, { vmid, node });
}
