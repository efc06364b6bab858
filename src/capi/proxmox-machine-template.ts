/**
 * The VM shape of a node group. capmox templates are immutable, so the name carries a hash
 * of the spec: a changed spec is a new template, and the MachineDeployment rolls over to it.
 */
import { Construct } from "constructs";
import type { TemplateRef } from "../config/index.js";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import { specHash } from "./hash.js";
import * as v1alpha1 from "./imports/capmox-v0.7.7-v1alpha1-infrastructure.cluster.x-k8s.io.js";
import { clusterNameLabel } from "./names.js";
import { ConstructPropError, requireInteger, requireName } from "./validation.js";

type Spec = v1alpha1.ProxmoxMachineTemplateSpecTemplateSpec;

export interface ProxmoxMachineTemplateProps {
  /** Name without the hash suffix, e.g. `<tenant>-<group>`. */
  readonly baseName: string;
  readonly namespace: string;
  readonly clusterName: string;
  readonly apiVersions: ApiVersions;
  /** The VM template to clone: by id on a node, or by tags. */
  readonly template: TemplateRef;
  readonly sockets: number;
  readonly cores: number;
  /** MiB; capmox requires a multiple of 8. */
  readonly memoryMiB: number;
  /** Boot disk size in GiB (at least 5, and not smaller than the template's disk). */
  readonly diskGiB: number;
  /** The template's boot disk. @default "scsi0" */
  readonly bootDevice?: string;
  readonly bridge: string;
  /** VLAN tag of the NIC. @default - untagged */
  readonly vlan?: number;
  /** Full clone. @default true */
  readonly fullClone?: boolean;
  /** Target storage of the clone; only with full clones. @default - the template's storage */
  readonly storage?: string;
  /** Disk format of the clone; only with full clones. @default - the storage's default */
  readonly format?: "raw" | "qcow2" | "vmdk";
  /** Proxmox pool for the VMs. @default - none */
  readonly pool?: string;
  /** VMIDs the VMs take, both ends inclusive (capmox `vmIDRange`). @default - any free VMID */
  readonly vmIdRange?: { readonly start: number; readonly end: number };
  /** Proxmox tags; at least one the template does not have (capmox bug #848). */
  readonly tags: readonly string[];
  /** Overrides the ProxmoxCluster's allowed nodes. @default - the cluster's */
  readonly allowedNodes?: readonly string[];
  /**
   * capmox's readiness checks through the guest agent (agent up, `cloud-init status`); false
   * skips both, for a template OS without the agent. @default true
   */
  readonly guestAgentChecks?: boolean;
}

const tagPattern = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const construct = "ProxmoxMachineTemplate";

function checkSizes(p: ProxmoxMachineTemplateProps): void {
  requireInteger(construct, "sockets", p.sockets, 1);
  requireInteger(construct, "cores", p.cores, 1);
  requireInteger(construct, "memoryMiB", p.memoryMiB, 8);
  if (p.memoryMiB % 8 !== 0) throw new ConstructPropError(construct, "memoryMiB", p.memoryMiB, "must be a multiple of 8 (capmox rejects others)");
  requireInteger(construct, "diskGiB", p.diskGiB, 5);
}

function checkClone(p: ProxmoxMachineTemplateProps): void {
  if (p.fullClone === false) {
    for (const field of ["storage", "format"] as const) {
      if (p[field] !== undefined) throw new ConstructPropError(construct, field, p[field], "needs a full clone: capmox rejects it for linked clones");
    }
  }
  if (p.template.kind === "id") {
    requireInteger(construct, "template.templateId", p.template.templateId, 100);
    if (!p.template.sourceNode) throw new ConstructPropError(construct, "template.sourceNode", p.template.sourceNode, "is required with a template id");
  } else if (p.template.matchPolicy !== "exact") {
    // capmox v1alpha1's templateSelector has only matchTags, matched exactly
    throw new ConstructPropError(construct, "template.matchPolicy", p.template.matchPolicy, "is not supported by capmox v1alpha1 (exact only)");
  }
}

function checkVmIdRange(p: ProxmoxMachineTemplateProps): void {
  if (p.vmIdRange === undefined) return;
  // PVE's VMIDs, and capmox's CRD bounds: 100 to 999999999
  requireInteger(construct, "vmIdRange.start", p.vmIdRange.start, 100, 999_999_999);
  requireInteger(construct, "vmIdRange.end", p.vmIdRange.end, 100, 999_999_999);
  if (p.vmIdRange.end < p.vmIdRange.start) throw new ConstructPropError(construct, "vmIdRange", p.vmIdRange, "end must not be below start (capmox's CRD refuses it)");
}

function checkTags(p: ProxmoxMachineTemplateProps): void {
  const bad = p.tags.find((t) => !tagPattern.test(t));
  if (bad !== undefined) throw new ConstructPropError(construct, "tags", bad, "is not a valid Proxmox tag");
  const templateTags = p.template.kind === "tags" ? p.template.tags.map((t) => t.toLowerCase()) : [];
  if (!p.tags.some((t) => !templateTags.includes(t.toLowerCase()))) {
    throw new ConstructPropError(construct, "tags", p.tags, "needs one tag the template lacks, or capmox may never boot the VM (bug #848)");
  }
}

function templateSource(t: TemplateRef): Partial<Spec> {
  return t.kind === "id" ? { sourceNode: t.sourceNode, templateId: t.templateId } : { templateSelector: { matchTags: [...t.tags] } };
}

function spec(p: ProxmoxMachineTemplateProps): Spec {
  const full = p.fullClone ?? true;
  return {
    ...templateSource(p.template),
    full,
    ...(full && p.storage ? { storage: p.storage } : {}),
    ...(full && p.format ? { format: p.format as v1alpha1.ProxmoxMachineTemplateSpecTemplateSpecFormat } : {}),
    ...(p.pool ? { pool: p.pool } : {}),
    ...(p.vmIdRange ? { vmIdRange: { start: p.vmIdRange.start, end: p.vmIdRange.end } } : {}),
    numSockets: p.sockets,
    numCores: p.cores,
    memoryMiB: p.memoryMiB,
    disks: { bootVolume: { disk: p.bootDevice ?? "scsi0", sizeGb: p.diskGiB } },
    network: {
      default: {
        bridge: p.bridge,
        model: v1alpha1.ProxmoxMachineTemplateSpecTemplateSpecNetworkDefaultModel.VIRTIO,
        ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
      },
    },
    tags: [...new Set(p.tags)].sort(),
    ...(p.allowedNodes ? { allowedNodes: [...p.allowedNodes] } : {}),
    // cloud-init's status is asked through the agent too: without the agent, skip both.
    ...(p.guestAgentChecks === false ? { checks: { skipCloudInitStatus: true, skipQemuGuestAgent: true } } : {}),
  };
}

export class ProxmoxMachineTemplate extends Construct {
  readonly ref: ObjectRef;
  readonly name: string;

  constructor(scope: Construct, id: string, props: ProxmoxMachineTemplateProps) {
    super(scope, id);
    const apiVersion = requireApi(props.apiVersions, "capmox", construct);
    checkSizes(props);
    checkClone(props);
    checkTags(props);
    checkVmIdRange(props);
    const templateSpec = spec(props);
    this.name = `${props.baseName}-${specHash(templateSpec)}`;
    requireName(construct, "baseName", this.name);
    this.ref = { apiVersion, kind: "ProxmoxMachineTemplate", name: this.name };
    new v1alpha1.ProxmoxMachineTemplate(this, "Resource", {
      metadata: { name: this.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.clusterName } },
      spec: { template: { spec: templateSpec } },
    });
  }
}
