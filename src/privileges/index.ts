/**
 * What each consumer of the API token needs, on which ACL path, and the comparison with what
 * `GET /access/permissions` says the token holds.
 *
 * Sources: capmox's least-privilege ACLs (docs/advanced-setups.md) and the calls it makes,
 * the CSI plugin's and the CCM's documented roles (shared/reference/notes/pve.md §6 and
 * notes/capi.md §2). Names are PVE 9's; on PVE 8 the guest agent privileges do not exist and
 * `VM.Monitor` covers them.
 */
import type { PermissionMap, PveBoolean } from "../proxmox/index.js";

export type Consumer = "capmox" | "csi" | "ccm";

/** Placeholders a requirement's path can use; expanded from the platform config. */
export type PathKind = "root" | "node" | "vm-target" | "template" | "disk-storage" | "iso-storage" | "sdn-bridge";

export interface PrivilegeRequirement {
  readonly consumer: Consumer;
  readonly path: PathKind;
  /** PVE 9 privilege names. */
  readonly privileges: readonly string[];
  /** The privilege must also apply below the path (new VMs under /vms or a pool). */
  readonly propagate: boolean;
  /** What the consumer does with it (goes into the failure reason). */
  readonly why: string;
  /** Only needed for an optional feature: reported, never a failure. */
  readonly optional?: string;
}

/** The table. Role names in fixes are derived from consumer + path kind. */
export const privilegeRequirements: readonly PrivilegeRequirement[] = [
  { consumer: "capmox", path: "root", privileges: ["Sys.Audit"], propagate: false, why: "reads /cluster/status before cloning and deleting" },
  { consumer: "capmox", path: "node", privileges: ["Sys.Audit"], propagate: false, why: "reads node status and memory to schedule VMs" },
  {
    consumer: "capmox",
    path: "vm-target",
    privileges: [
      "VM.Audit",
      "VM.Allocate",
      "VM.Config.CPU",
      "VM.Config.Memory",
      "VM.Config.Disk",
      "VM.Config.Network",
      "VM.Config.Options",
      "VM.Config.CDROM",
      "VM.Config.Cloudinit",
      "VM.Config.HWType",
      "VM.PowerMgmt",
      "VM.GuestAgent.Audit",
      "VM.GuestAgent.Unrestricted",
    ],
    propagate: true,
    why: "creates, configures, resizes, starts, stops and deletes the cluster's VMs and asks their guest agent for cloud-init status",
  },
  { consumer: "capmox", path: "template", privileges: ["VM.Audit", "VM.Clone"], propagate: false, why: "reads and clones the VM template" },
  {
    consumer: "capmox",
    path: "disk-storage",
    privileges: ["Datastore.AllocateSpace", "Datastore.Audit"],
    propagate: false,
    why: "allocates the cloned VM disks",
  },
  {
    consumer: "capmox",
    path: "iso-storage",
    privileges: ["Datastore.Allocate", "Datastore.AllocateTemplate", "Datastore.Audit"],
    propagate: false,
    why: "uploads and deletes each VM's cloud-init ISO (user-data-<vmid>.iso)",
  },
  { consumer: "capmox", path: "sdn-bridge", privileges: ["SDN.Use"], propagate: false, why: "attaches VM NICs to the bridge (PVE 8+ checks SDN.Use on it)" },

  { consumer: "csi", path: "vm-target", privileges: ["VM.Audit", "VM.Config.Disk"], propagate: true, why: "reads VM configs and attaches, detaches and resizes volumes" },
  {
    consumer: "csi",
    path: "disk-storage",
    privileges: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit"],
    propagate: false,
    why: "creates, lists and deletes persistent volumes on the disk storage",
  },
  { consumer: "csi", path: "root", privileges: ["Sys.Audit"], propagate: false, why: "reads /cluster/status at start-up", optional: "CSI tolerates a 403 here" },

  { consumer: "ccm", path: "root", privileges: ["Sys.Audit"], propagate: false, why: "reads cluster status and HA groups" },
  { consumer: "ccm", path: "vm-target", privileges: ["VM.Audit"], propagate: true, why: "matches Kubernetes nodes to VMs (resources, status, SMBIOS uuid)" },
  {
    consumer: "ccm",
    path: "vm-target",
    privileges: ["VM.GuestAgent.Audit"],
    propagate: true,
    why: "reads node addresses from the guest agent",
    optional: "only for the CCM network mode qemu or auto",
  },
];

/** PVE 8 spelling of a PVE 9 privilege (the guest agent privileges were split out of VM.Monitor in 9.0). */
export function privilegeForRelease(privilege: string, major: number): string {
  if (major < 9 && privilege.startsWith("VM.GuestAgent.")) return "VM.Monitor";
  return privilege;
}

/** The concrete ACL paths of a path kind under the platform config. */
export interface PathContext {
  readonly allowedNodes: readonly string[];
  readonly pool?: string;
  /** VMIDs of the template(s) capmox would clone; empty when they cannot be resolved. */
  readonly templateIds: readonly number[];
  readonly diskStorage: string;
  readonly isoStorage: string;
  readonly bridge: string;
  readonly vlan?: number;
}

export function expandPath(kind: PathKind, ctx: PathContext): string[] {
  switch (kind) {
    case "root":
      return ["/"];
    case "node":
      return ctx.allowedNodes.map((n) => `/nodes/${n}`);
    case "vm-target":
      return [ctx.pool ? `/pool/${ctx.pool}` : "/vms"];
    case "template":
      // Unresolvable template: judge on /vms (propagating), which covers any template id.
      return ctx.templateIds.length > 0 ? ctx.templateIds.map((id) => `/vms/${id}`) : ["/vms"];
    case "disk-storage":
      return [`/storage/${ctx.diskStorage}`];
    case "iso-storage":
      return [`/storage/${ctx.isoStorage}`];
    case "sdn-bridge":
      return [`/sdn/zones/localnetwork/${ctx.bridge}${ctx.vlan !== undefined ? `/${ctx.vlan}` : ""}`];
  }
}

/** One missing (or non-propagating) privilege set on one path. */
export interface PrivilegeGap {
  readonly consumer: Consumer;
  readonly path: string;
  readonly kind: PathKind;
  readonly missing: readonly string[];
  /** Held on the path but without propagate, where propagation is needed. */
  readonly notPropagated: readonly string[];
  /** Every privilege of the requirement (what the role in the fix grants). */
  readonly wanted: readonly string[];
  readonly why: string;
  readonly optional?: string;
}

const truthy = (v: PveBoolean | undefined): boolean => v === 1 || v === true;

/** Compares the token's permissions with one consumer's requirements. */
export function findGaps(
  consumer: Consumer,
  permissions: PermissionMap,
  ctx: PathContext,
  major: number,
): PrivilegeGap[] {
  const gaps: PrivilegeGap[] = [];
  for (const req of privilegeRequirements.filter((r) => r.consumer === consumer)) {
    const wanted = [...new Set(req.privileges.map((p) => privilegeForRelease(p, major)))];
    for (const path of expandPath(req.path, ctx)) {
      const held = effectiveAt(permissions, path);
      const missing = wanted.filter((p) => !(p in held));
      const notPropagated = req.propagate ? wanted.filter((p) => p in held && !truthy(held[p])) : [];
      if (missing.length > 0 || notPropagated.length > 0) {
        gaps.push({
          consumer,
          path,
          kind: req.path,
          missing,
          notPropagated,
          wanted,
          why: req.why,
          ...(req.optional ? { optional: req.optional } : {}),
        });
      }
    }
  }
  return gaps;
}

/** Every ACL path a consumer's requirements touch (to ask `/access/permissions?path=` for each). */
export function requiredPaths(ctx: PathContext): string[] {
  const paths = new Set<string>();
  for (const req of privilegeRequirements) for (const p of expandPath(req.path, ctx)) paths.add(p);
  return [...paths].sort();
}

const roleSuffix: Record<PathKind, string> = {
  root: "Root",
  node: "Nodes",
  "vm-target": "VMs",
  template: "Template",
  "disk-storage": "DiskStorage",
  "iso-storage": "IsoStorage",
  "sdn-bridge": "Bridge",
};

const consumerLabel: Record<Consumer, string> = { capmox: "Capmox", csi: "Csi", ccm: "Ccm" };

/** Role name used in the fix, e.g. `CozyCapmoxVMs`. */
export function roleName(consumer: Consumer, kind: PathKind): string {
  return `Cozy${consumerLabel[consumer]}${roleSuffix[kind]}`;
}

/**
 * The exact `pveum` commands that close the gaps: one role per consumer and path kind holding
 * everything that consumer needs there, granted on each path (propagating where needed).
 * With privilege separation (privsep=1) the token's effective privileges are the
 * intersection of the token's and the user's, so both get the ACL; without it, the user's
 * ACLs are what count.
 */
export function pveumCommands(gaps: readonly PrivilegeGap[], tokenId: string, privsep: boolean | undefined): string[] {
  const user = tokenId.split("!")[0] ?? tokenId;
  const lines: string[] = [];
  const roles = new Map<string, readonly string[]>();
  for (const gap of gaps) roles.set(roleName(gap.consumer, gap.kind), gap.wanted);
  for (const [role, privs] of roles) {
    lines.push(`pveum role add ${role} -privs "${privs.join(" ")}"   # if it exists: pveum role modify ${role} -privs "${privs.join(" ")}"`);
  }
  const seen = new Set<string>();
  for (const gap of gaps) {
    const role = roleName(gap.consumer, gap.kind);
    const key = `${gap.path} ${role}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Sys.Audit on `/` must not propagate (it would grant it on everything below).
    const propagate = gap.kind === "root" ? " -propagate 0" : "";
    if (privsep !== false) lines.push(`pveum acl modify ${gap.path} -token '${tokenId}' -role ${role}${propagate}`);
    lines.push(`pveum acl modify ${gap.path} -user ${user} -role ${role}${propagate}`);
  }
  if (privsep === undefined) {
    lines.push(
      `# the token's privilege separation is unknown (see pveum user token list ${user}): with privsep=1 both ACL lines are needed, with privsep=0 the -user lines suffice`,
    );
  }
  return lines;
}

/** One line per gap, for the failure reason. */
export function describeGaps(gaps: readonly PrivilegeGap[]): string {
  return gaps
    .map((g) => {
      const parts: string[] = [];
      if (g.missing.length > 0) parts.push(`missing ${g.missing.join(", ")}`);
      if (g.notPropagated.length > 0) parts.push(`${g.notPropagated.join(", ")} granted without propagate (new VMs below ${g.path} would not get it)`);
      return `${g.path}: ${parts.join("; ")} (${g.consumer} ${g.why})`;
    })
    .join("; ");
}

/**
 * Privileges in effect at `path` with their propagate flag: the path's own entry when PVE
 * listed it (it does for every `?path=` query), else what the nearest listed ancestor
 * propagates.
 */
export function effectiveAt(map: PermissionMap, path: string): Readonly<Record<string, PveBoolean>> {
  const own = map[path];
  if (own) return own;
  let parent = path;
  while (parent !== "/") {
    parent = parent.replace(/\/[^/]*$/, "") || "/";
    const entry = map[parent];
    if (entry) return Object.fromEntries(Object.entries(entry).filter(([, flag]) => truthy(flag)));
  }
  return {};
}
