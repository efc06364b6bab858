/**
 * One node group of a tenant: its VM template, its join config, the MachineDeployment that
 * keeps the VMs and the health check that replaces broken ones.
 */
import { Construct } from "constructs";
import type { NodeGroupConfig, ProxmoxConfig } from "../config/index.js";
import type { ApiVersions } from "../versions/index.js";
import { KubeadmConfigTemplate } from "./kubeadm-config-template.js";
import { MachineDeployment } from "./machine-deployment.js";
import { MachineHealthCheck } from "./machine-health-check.js";
import { deploymentName, machineTag } from "./names.js";
import { ProxmoxMachineTemplate } from "./proxmox-machine-template.js";

export interface NodeGroupProps {
  readonly clusterName: string;
  readonly namespace: string;
  readonly apiVersions: ApiVersions;
  /** Kubernetes version of the nodes. */
  readonly version: string;
  readonly group: NodeGroupConfig;
  /** Template, bridge, storages and nodes come from here. */
  readonly proxmox: ProxmoxConfig;
  /** SSH public keys for the VMs. @default [] */
  readonly sshAuthorizedKeys?: readonly string[];
  /** The tenant's own Proxmox pool. @default proxmox.pool */
  readonly pool?: string;
  /** The tenant's VMID range (capmox `vmIDRange`). @default - any free VMID */
  readonly vmIdRange?: { readonly start: number; readonly end: number };
}

// CAPI copies these label domains from the Machine to the Node; the kubelet may not set them itself.
const machineLabelDomains = [/^node-role\.kubernetes\.io\//, /^node-restriction\.kubernetes\.io\//, /^node\.cluster\.x-k8s\.io\//];

/** Node labels split into those CAPI propagates from Machines and those the kubelet registers. */
export function splitLabels(labels: Readonly<Record<string, string>>): { machine: Record<string, string>; kubelet: Record<string, string> } {
  const machine: Record<string, string> = {};
  const kubelet: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    (machineLabelDomains.some((d) => d.test(key)) ? machine : kubelet)[key] = value;
  }
  return { machine, kubelet };
}

export class NodeGroup extends Construct {
  readonly deployment: MachineDeployment;

  constructor(scope: Construct, id: string, props: NodeGroupProps) {
    super(scope, id);
    const { group, proxmox, clusterName, namespace, apiVersions } = props;
    const name = deploymentName(clusterName, group.name);
    const labels = splitLabels(group.labels);
    const machineTemplate = new ProxmoxMachineTemplate(this, "MachineTemplate", {
      baseName: name,
      namespace,
      clusterName,
      apiVersions,
      template: proxmox.template,
      sockets: group.sockets,
      cores: group.cores,
      memoryMiB: group.memoryMiB,
      diskGiB: group.diskGiB,
      bootDevice: proxmox.bootDevice,
      bridge: proxmox.bridge,
      vlan: proxmox.vlan,
      fullClone: proxmox.fullClone,
      storage: proxmox.fullClone === false ? undefined : proxmox.diskStorage,
      format: proxmox.diskFormat,
      pool: props.pool ?? proxmox.pool,
      vmIdRange: props.vmIdRange,
      tags: [...group.tags, machineTag(clusterName, group.name)],
      allowedNodes: group.allowedNodes,
      ...(group.guestAgentChecks === false ? { guestAgentChecks: false } : {}),
    });
    const config = new KubeadmConfigTemplate(this, "BootstrapTemplate", {
      baseName: name,
      namespace,
      clusterName,
      apiVersions,
      sshAuthorizedKeys: props.sshAuthorizedKeys,
      nodeLabels: labels.kubelet,
    });
    this.deployment = new MachineDeployment(this, "Deployment", {
      name,
      namespace,
      clusterName,
      apiVersions,
      version: props.version,
      replicas: group.replicas,
      minReplicas: group.minReplicas,
      maxReplicas: group.maxReplicas,
      bootstrapRef: config.ref,
      infrastructureRef: machineTemplate.ref,
      machineLabels: labels.machine,
      capacity: { cpu: group.sockets * group.cores, memoryMiB: group.memoryMiB },
    });
    new MachineHealthCheck(this, "HealthCheck", {
      name,
      namespace,
      clusterName,
      apiVersions,
      deploymentName: name,
      minReplicas: group.minReplicas,
      nodeStartupTimeout: group.nodeStartupTimeout,
      unhealthyTimeout: group.unhealthyTimeout,
      maxUnhealthy: group.maxUnhealthy,
    });
  }
}
