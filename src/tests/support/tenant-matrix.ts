/**
 * Tenant configs that exercise the constructs' variations: several node groups, template by
 * id and by tags, VLANs, several allowed nodes, every control-plane service type.
 */
import { defaultConfig, defaultNodeGroup, defaultTenant, type PlatformConfig } from "../../config/index.js";

/** The tenant matrix: several node groups, template by id and by tags, VLANs, several allowed nodes. */
export function tenantMatrix(): Array<{ readonly name: string; readonly config: PlatformConfig }> {
  const base = defaultConfig();
  const group = (name: string, over: Partial<ReturnType<typeof defaultNodeGroup>> = {}) => ({ ...defaultNodeGroup(name), ...over });
  const tags: PlatformConfig = {
    ...base,
    proxmox: {
      ...base.proxmox,
      template: { kind: "tags", tags: ["ubuntu-2404", "k8s-v1.32"], matchPolicy: "exact" },
      vlan: 42,
      allowedNodes: ["pve1", "pve2", "pve3"],
      pool: "capi",
    },
    tenants: [
      {
        ...defaultTenant("mx-tags", "v1.32.6"),
        controlPlane: { replicas: 3, serviceType: "LoadBalancer", address: "10.0.0.50" },
        sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example"],
        addressRanges: [{ start: "10.0.0.100", end: "10.0.0.149" }],
        nodeGroups: [
          group("general"),
          group("large", { replicas: 3, minReplicas: 1, maxReplicas: 6, sockets: 2, cores: 8, memoryMiB: 32768, diskGiB: 100, tags: ["large"], labels: { "node.example.com/size": "large" } }),
          group("edge", { replicas: 1, minReplicas: 1, maxReplicas: 1, allowedNodes: ["pve3"], labels: { "node-role.kubernetes.io/edge": "" }, guestAgentChecks: false }),
        ],
      },
    ],
  };
  const byId: PlatformConfig = {
    ...base,
    proxmox: { ...base.proxmox, template: { kind: "id", templateId: 9001, sourceNode: "pve2" }, vlan: 100, allowedNodes: ["pve2"] },
    tenants: [
      {
        ...defaultTenant("mx-id-a", "v1.33.0"),
        controlPlane: { replicas: 2, serviceType: "NodePort" },
        addressRanges: [{ start: "10.0.0.100", end: "10.0.0.139" }],
        nodeGroups: [group("workers", { replicas: 4, minReplicas: 2, maxReplicas: 8 }), group("gpu", { cores: 16, memoryMiB: 65536, tags: ["gpu"] })],
      },
      {
        ...defaultTenant("mx-id-b", "v1.31.10"),
        controlPlane: { replicas: 1, serviceType: "ClusterIP" },
        addressRanges: [{ start: "10.0.0.140", end: "10.0.0.199" }],
        nodeGroups: [group("workers")],
      },
    ],
  };
  const oneNode: PlatformConfig = {
    ...tags,
    proxmox: { ...tags.proxmox, template: { kind: "tags", tags: ["talos"], matchPolicy: "exact" }, vlan: undefined, allowedNodes: ["pve1"] },
    tenants: [
      {
        ...tags.tenants[0]!,
        name: "mx-one-node",
        namespace: "mx-one-node",
        controlPlane: { replicas: 2, serviceType: "LoadBalancer" },
        nodeGroups: [group("workers"), group("infra", { replicas: 2, minReplicas: 0, maxReplicas: 4, tags: ["infra"] })],
      },
    ],
  };
  return [
    { name: "default", config: base },
    { name: "tags+vlan+3 groups", config: tags },
    { name: "id+vlan+2 tenants", config: byId },
    { name: "tags, no vlan, one allowed node", config: oneNode },
  ];
}
