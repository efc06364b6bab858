/**
 * Template resolution exactly as capmox does it, and the template hygiene rules.
 *
 * capmox v0.9 (`FindVMTemplateByTags`): walk `/cluster/resources?type=vm` in order, skip
 * entries that are not templates or have no tags, lower-case and trim the template's tags,
 * require every wanted tag; `exact` wants no extra tags, `uniqueSubset` accepts extras,
 * `bestSubset` keeps a running best distance (extra tags) and counts every template that was
 * at least as good as the best seen so far. Exactly one counted match is required.
 * capmox v0.7 has no match policy: the template's `;`-split, sorted tags must equal the
 * sorted, de-duplicated, lower-cased wanted tags.
 */
import type { PveBoolean } from "../../proxmox/index.js";

export type MatchPolicy = "exact" | "uniqueSubset" | "bestSubset";

/** Which capmox algorithm applies: v0.7 (exact only) or v0.8+ (match policies). */
export type CapmoxGeneration = "v0.7" | "v0.9";

export function capmoxGeneration(capmoxVersion: string): CapmoxGeneration {
  const m = /^v?0\.(\d+)\./.exec(capmoxVersion);
  return m && Number(m[1]) < 8 ? "v0.7" : "v0.9";
}

/** The fields of a `/cluster/resources` entry that resolution reads. */
export interface TemplateCandidate {
  readonly id?: string;
  readonly type?: string;
  readonly vmid?: number;
  readonly node?: string;
  readonly name?: string;
  readonly tags?: string;
  readonly template?: PveBoolean;
}

export type TagResolution =
  | { readonly ok: true; readonly vmid: number; readonly node: string; readonly candidate: TemplateCandidate }
  | {
      readonly ok: false;
      /** Templates capmox counted as matches (0 or more than 1). */
      readonly matches: readonly TemplateCandidate[];
      readonly reason: string;
      readonly fix: string;
    };

const isTemplate = (c: TemplateCandidate): boolean => c.template !== undefined && c.template !== 0 && c.template !== false;

function normalizeWanted(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.toLowerCase()))].sort();
}

function describe(c: TemplateCandidate): string {
  return `${c.vmid ?? "?"}${c.name ? ` (${c.name})` : ""} on ${c.node ?? "?"} [tags: ${c.tags ?? ""}]`;
}

/** capmox v0.9's counting, step by step. */
function matchV09(resources: readonly TemplateCandidate[], wanted: readonly string[], policy: MatchPolicy): TemplateCandidate[] {
  const counted: TemplateCandidate[] = [];
  let bestDistance = Number.MAX_SAFE_INTEGER;
  for (const vm of resources) {
    if (!isTemplate(vm) || !vm.tags) continue;
    const have = new Set(vm.tags.split(";").map((t) => t.trim().toLowerCase()));
    if (!wanted.every((t) => have.has(t))) continue;
    const distance = have.size - wanted.length;
    if (policy === "exact" && distance !== 0) continue;
    if (policy === "bestSubset") {
      if (distance > bestDistance) continue;
      bestDistance = distance;
    }
    counted.push(vm);
  }
  return counted;
}

/** capmox v0.7's set equality (no trimming, no lower-casing of the template's tags). */
function matchV07(resources: readonly TemplateCandidate[], wanted: readonly string[]): TemplateCandidate[] {
  const want = wanted.join(";");
  return resources.filter((vm) => isTemplate(vm) && vm.tags && vm.tags.split(";").sort().join(";") === want);
}

export function resolveTemplateByTags(
  resources: readonly TemplateCandidate[],
  tags: readonly string[],
  policy: MatchPolicy,
  generation: CapmoxGeneration,
): TagResolution {
  const wanted = normalizeWanted(tags);
  const tagList = wanted.join(";");
  if (wanted.length === 0) {
    return { ok: false, matches: [], reason: "proxmox.template.tags is empty", fix: "list the template's tags in proxmox.template.tags" };
  }
  if (generation === "v0.7" && policy !== "exact") {
    return {
      ok: false,
      matches: [],
      reason: `matchPolicy ${policy} is not available in capmox v0.7 (templateSelector there matches the exact tag set only)`,
      fix: "set proxmox.template.matchPolicy to exact and give the template exactly these tags, or use a profile with capmox v0.8 or later",
    };
  }
  const matches = generation === "v0.7" ? matchV07(resources, wanted) : matchV09(resources, wanted, policy);
  const templates = resources.filter(isTemplate);
  const inventory = templates.length > 0 ? templates.map(describe).join("; ") : "none";
  if (matches.length === 1) {
    const only = matches[0] as TemplateCandidate;
    if (only.type && only.type !== "qemu") {
      return {
        ok: false,
        matches,
        reason: `tags ${tagList} resolve to ${describe(only)}, which is a ${only.type} container template, not a QEMU VM template`,
        fix: `remove these tags from container ${only.vmid} (pct set ${only.vmid} --tags "...") and put them on the VM template`,
      };
    }
    return { ok: true, vmid: only.vmid ?? -1, node: only.node ?? "", candidate: only };
  }
  const policyText = generation === "v0.7" ? "capmox v0.7 exact matching" : `matchPolicy ${policy}`;
  if (matches.length === 0) {
    const rule =
      policy === "exact" || generation === "v0.7"
        ? `a template whose tags are exactly ${tagList}`
        : `a template whose tags include ${tagList}`;
    return {
      ok: false,
      matches,
      reason: `no template matches tags ${tagList} under ${policyText}; capmox needs ${rule}. Templates in the cluster: ${inventory}`,
      fix: `tag the template: qm set <vmid> --tags "${tagList}"${policy === "exact" ? " (exact: no other tags)" : ""}, or correct proxmox.template.tags`,
    };
  }
  const orderNote =
    policy === "bestSubset" && generation === "v0.9"
      ? " (capmox counts every template that was at least as good as the best one seen so far in /cluster/resources order, so a worse match listed first also counts)"
      : "";
  return {
    ok: false,
    matches,
    reason: `${matches.length} templates match tags ${tagList} under ${policyText}: ${matches.map(describe).join("; ")}; capmox requires exactly one and refuses to clone${orderNote}`,
    fix: `keep these tags on one template only (qm set <vmid> --tags "<other tags>" on the others), or add a tag that only the intended template has to both the template and proxmox.template.tags`,
  };
}

/** The boot disk keys a PVE config may hold. */
const DRIVE_KEY = /^(ide|sata|scsi|virtio)\d+$/;

function isCloudInitDrive(value: unknown): boolean {
  return typeof value === "string" && /(^|[:/])(vm|base)-\d+-cloudinit\b|:cloudinit\b/.test(value.split(",")[0] ?? "");
}

/** Drive keys holding a PVE cloud-init drive, e.g. `["ide0"]`. */
export function cloudInitDrives(config: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(config)
    .filter((k) => DRIVE_KEY.test(k) && isCloudInitDrive(config[k]))
    .sort();
}

export type BootOrderVerdict =
  | { readonly ok: true; readonly order: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/**
 * capmox appends `;ide0` to the template's boot value, which only works with the new-style
 * `order=dev1;dev2` syntax; legacy values (`c`, `cdn`, `legacy=cdn`) or no value at all make
 * PVE reject the update.
 */
export function checkBootOrder(boot: unknown): BootOrderVerdict {
  if (typeof boot !== "string" || boot.trim() === "") return { ok: false, problem: "the template has no boot option" };
  const parts = boot.split(",").map((p) => p.trim());
  const order = parts.find((p) => p.startsWith("order="));
  const legacy = parts.find((p) => !p.startsWith("order="));
  if (legacy !== undefined) return { ok: false, problem: `the template uses the legacy boot syntax '${boot}'` };
  const devices = (order ?? "").slice("order=".length).split(";").filter(Boolean);
  if (devices.length === 0) return { ok: false, problem: `the boot order '${boot}' names no device` };
  return { ok: true, order: devices };
}

/** Storages the template's disks live on (CD-ROMs other than a cloud-init drive do not move with a clone). */
export function templateDiskStorages(config: Readonly<Record<string, unknown>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(config)) {
    if (!/^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/.test(key) || typeof value !== "string") continue;
    const volume = value.split(",")[0] ?? "";
    if (/(^|,)media=cdrom(,|$)/.test(value) && !isCloudInitDrive(value)) continue;
    const m = /^([A-Za-z][A-Za-z0-9\-_.]*):/.exec(volume);
    if (m) out.set(key, m[1] as string);
  }
  return out;
}

/** Whether a VM config's `agent` option enables the QEMU guest agent (`1`, `enabled=1,…`). */
export function agentEnabled(value: unknown): boolean {
  if (value === 1 || value === true) return true;
  if (typeof value !== "string") return false;
  const first = value.split(",")[0]?.trim() ?? "";
  return first === "1" || /(^|,)enabled=1\b/.test(value);
}
