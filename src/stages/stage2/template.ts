/**
 * Stage 2's template checks: where capmox will find the template, and whether the template
 * is fit for capmox (no PVE cloud-init drive on ide0, new-style boot order).
 */
import { getProfile } from "../../versions/index.js";
import type { QemuConfig } from "../../proxmox/index.js";
import { apiFailure, errorKind } from "../api-failure.js";
import type { StageContext } from "../input.js";
import { type CheckOutcome, fail, pass } from "../model.js";
import { agentEnabled, capmoxGeneration, checkBootOrder, cloudInitDrives, resolveTemplateByTags, templateDiskStorages } from "./template-logic.js";

export type TemplateLookup =
  | { readonly ok: true; readonly vmid: number; readonly node: string; readonly config: QemuConfig; readonly how: string }
  | { readonly ok: false; readonly outcome: CheckOutcome };

function describeRef(ctx: StageContext): string {
  const t = ctx.config.proxmox.template;
  return t.kind === "id" ? `templateID ${t.templateId} on sourceNode ${t.sourceNode}` : `tags ${t.tags.join(";")} (matchPolicy ${t.matchPolicy})`;
}

export async function lookupById(ctx: StageContext, templateId: number, sourceNode: string): Promise<TemplateLookup> {
  const { api } = ctx;
  try {
    // capmox reads status/current and config of the template on the source node, nothing else.
    await api.vmStatus(sourceNode, templateId);
    const config = await api.vmConfig(sourceNode, templateId);
    return { ok: true, vmid: templateId, node: sourceNode, config, how: `VM ${templateId} on ${sourceNode}` };
  } catch (error) {
    if (errorKind(error) !== "not-found") {
      return { ok: false, outcome: apiFailure(`reading template ${templateId} on node ${sourceNode}`, error, api.url) };
    }
    const elsewhere = (await ctx.vmResources().catch(() => [])).find((r) => r.vmid === templateId);
    if (elsewhere?.node) {
      return {
        ok: false,
        outcome: fail(
          `VM ${templateId} is on node ${elsewhere.node}, not on sourceNode ${sourceNode}; capmox looks it up with GET /nodes/${sourceNode}/qemu/${templateId} and fails`,
          `set proxmox.template.sourceNode to ${elsewhere.node}, or migrate the template to ${sourceNode}`,
        ),
      };
    }
    return {
      ok: false,
      outcome: fail(
        `there is no VM ${templateId} in the cluster (capmox would fail with "does not exist" on ${sourceNode})`,
        `create the template (e.g. import a cloud image, then qm template ${templateId}) or set proxmox.template.templateId to the template's VMID`,
      ),
    };
  }
}

export async function lookupByTags(ctx: StageContext, tags: readonly string[], policy: "exact" | "uniqueSubset" | "bestSubset"): Promise<TemplateLookup> {
  const { api } = ctx;
  let resources;
  try {
    resources = await ctx.vmResources();
  } catch (error) {
    return { ok: false, outcome: apiFailure("listing VMs (GET /cluster/resources?type=vm)", error, api.url) };
  }
  const generation = capmoxGeneration(getProfile(ctx.config.profile).capmox.version);
  const resolved = resolveTemplateByTags(resources, tags, policy, generation);
  if (!resolved.ok) return { ok: false, outcome: fail(resolved.reason, resolved.fix) };
  try {
    const config = await api.vmConfig(resolved.node, resolved.vmid);
    return { ok: true, vmid: resolved.vmid, node: resolved.node, config, how: `tags ${tags.join(";")} → VM ${resolved.vmid} on ${resolved.node}` };
  } catch (error) {
    return { ok: false, outcome: apiFailure(`reading the config of template ${resolved.vmid} on ${resolved.node}`, error, api.url) };
  }
}

/** Finds the template the way capmox would (memoised per stage run). */
export function lookupTemplate(ctx: StageContext): Promise<TemplateLookup> {
  return ctx.memo("template", async () => {
    const t = ctx.config.proxmox.template;
    return t.kind === "id" ? lookupById(ctx, t.templateId, t.sourceNode) : lookupByTags(ctx, t.tags, t.matchPolicy);
  });
}

export async function checkTemplateResolves(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const isTemplate = found.config.template === 1 || found.config.template === true;
  if (!isTemplate) {
    return fail(
      `VM ${found.vmid} on ${found.node} (${describeRef(ctx)}) is an ordinary VM, not a template; cloning it copies a live machine`,
      `convert it: qm template ${found.vmid} (on ${found.node})`,
    );
  }
  return pass(`${found.how} (${found.config.name ?? "unnamed"})`, { vmid: found.vmid, node: found.node });
}

export async function checkTemplateCloudInitDrive(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const drives = cloudInitDrives(found.config);
  if (drives.includes("ide0")) {
    return fail(
      `template ${found.vmid} has a PVE cloud-init drive on ide0 (${String(found.config.ide0)}); capmox always attaches its own cloud-init ISO on ide0, so the two collide and the VM boots without capmox's user data`,
      `remove the drive from the template: qm set ${found.vmid} --delete ide0 (on ${found.node}); capmox does not use PVE's cloud-init drive`,
    );
  }
  const other = drives.length > 0 ? `; note: a PVE cloud-init drive on ${drives.join(", ")} stays unused by capmox and gives the guest a second cidata source` : "";
  return pass(`ide0 is ${found.config.ide0 === undefined ? "free" : `not a cloud-init drive (${String(found.config.ide0)})`}${other}`);
}

export async function checkTemplateBootOrder(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const verdict = checkBootOrder(found.config.boot);
  const disk = ctx.config.proxmox.bootDevice ?? "scsi0";
  if (!verdict.ok) {
    return fail(
      `${verdict.problem}; capmox appends ';ide0' to the template's boot value when it attaches the cloud-init ISO, which PVE rejects unless the value is the new-style order=… list`,
      `set a new-style boot order on the template: qm set ${found.vmid} --boot order=${disk} (on ${found.node})`,
    );
  }
  return pass(`boot order=${verdict.order.join(";")}`);
}

/**
 * capmox clones on the template's node with `target` = the chosen allowed node. PVE allows a
 * clone to another node only when every disk of the template and the target storage are
 * shared ("can't clone VM to node … (VM uses local storage)").
 */
export async function checkTemplateCloneTargets(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const p = ctx.config.proxmox;
  const others = p.allowedNodes.filter((n) => n !== found.node);
  if (others.length === 0) return pass(`every allowed node is the template's node ${found.node}`);
  let storages;
  try {
    storages = await ctx.memo(`storage:${found.node}`, () => ctx.api.nodeStorages(found.node));
  } catch (error) {
    return apiFailure(`listing the storages of ${found.node}`, error, ctx.api.url);
  }
  const shared = new Set(storages.filter((s) => s.shared === 1 || s.shared === true).map((s) => s.storage));
  const local = [...templateDiskStorages(found.config)].filter(([, storage]) => !shared.has(storage));
  const full = p.fullClone ?? true;
  const targetLocal = full && !shared.has(p.diskStorage);
  if (local.length === 0 && !targetLocal) {
    return pass(`template ${found.vmid} and ${full ? `disk storage ${p.diskStorage}` : "its linked clones"} are on shared storage: clones can go to ${others.join(", ")}`);
  }
  const problems = [
    ...local.map(([key, storage]) => `template disk ${key} is on local storage ${storage}`),
    ...(targetLocal ? [`proxmox.diskStorage ${p.diskStorage} is not shared`] : []),
  ];
  return fail(
    `capmox clones template ${found.vmid} on ${found.node} with target ${others.join("/")}, which Proxmox refuses ("can't clone VM to node … (VM uses local storage)"): ${problems.join("; ")}`,
    `put the template on shared storage (qm clone ${found.vmid} <new id> --full --storage <shared storage>, then qm template <new id>, and point proxmox.template at it) and set proxmox.diskStorage to a shared storage, ` +
      `or restrict proxmox.allowedNodes to ${found.node}`,
  );
}

/** `size=32G` of a drive value, in GiB (K, M, G, T suffixes; none = GiB as PVE writes it). */
export function driveSizeGiB(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?(?:,|$)/.exec(value);
  if (!m) return undefined;
  const units: Record<string, number> = { K: 1 / (1024 * 1024), M: 1 / 1024, G: 1, T: 1024 };
  return Number(m[1]) * (units[m[2] ?? "G"] ?? 1);
}

/**
 * capmox resizes `bootDevice` to each node group's `diskGiB` (an absolute size). The disk must
 * exist on the template, and PVE cannot shrink: a smaller size makes the resize task fail,
 * which capmox does not notice, so the VMs silently keep the template's size.
 */
export async function checkTemplateBootDisk(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const disk = ctx.config.proxmox.bootDevice ?? "scsi0";
  const value = found.config[disk];
  if (value === undefined) {
    const disks = Object.keys(found.config).filter((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k) && !/media=cdrom/.test(String(found.config[k])));
    return fail(
      `template ${found.vmid} has no ${disk}, the boot disk capmox resizes (proxmox.bootDevice)`,
      `set proxmox.bootDevice to the template's boot disk (${disks.join(", ") || "it has no disk"})`,
    );
  }
  const size = driveSizeGiB(value);
  const groups = ctx.config.tenants.flatMap((t) => t.nodeGroups.map((g) => ({ where: `tenant ${t.name} group ${g.name}`, diskGiB: g.diskGiB })));
  const small = size === undefined ? [] : groups.filter((g) => g.diskGiB < size);
  if (small.length > 0) {
    return fail(
      `template ${found.vmid}'s ${disk} is ${size} GiB, larger than the disk size of ${small.map((g) => `${g.where} (${g.diskGiB} GiB)`).join(", ")}; Proxmox cannot shrink disks, so the resize fails and those VMs keep ${size} GiB`,
      `set diskGiB to at least ${size} for those node groups, or build the template with a smaller disk`,
      { templateDiskGiB: size ?? 0 },
    );
  }
  return pass(`${disk} is ${size ?? "of unknown size"} GiB, not larger than any node group's disk`, { templateDiskGiB: size ?? 0 });
}

/**
 * capmox v0.7 waits for the VM's QEMU guest agent (and asks it for cloud-init's status)
 * before it reports a VM ready: a template whose agent is off gives VMs that never become
 * Provisioned. Node groups that set `guestAgentChecks: false` make capmox skip both.
 */
export async function checkTemplateGuestAgent(ctx: StageContext): Promise<CheckOutcome> {
  const found = await lookupTemplate(ctx);
  if (!found.ok) return found.outcome;
  const groups = ctx.config.tenants.flatMap((t) => t.nodeGroups.map((g) => ({ where: `tenant ${t.name} group ${g.name}`, checks: g.guestAgentChecks !== false })));
  const waiting = groups.filter((g) => g.checks);
  if (agentEnabled(found.config.agent)) return pass(`agent ${String(found.config.agent)}: capmox can wait for the guest agent and cloud-init`);
  if (groups.length > 0 && waiting.length === 0) {
    return pass(`agent is off, and every node group skips capmox's agent checks (guestAgentChecks: false)`);
  }
  return fail(
    `template ${found.vmid} has the QEMU guest agent ${found.config.agent === undefined ? "not configured" : `off (agent ${String(found.config.agent)})`}; capmox waits for the agent before it reports a VM ready, so the VMs of ${waiting.map((g) => g.where).join(", ") || "every node group"} would never be Provisioned`,
    `install qemu-guest-agent in the template's OS and enable it: qm set ${found.vmid} --agent enabled=1 (on ${found.node}); or, for an OS that cannot run it, set guestAgentChecks: false on those node groups`,
  );
}
