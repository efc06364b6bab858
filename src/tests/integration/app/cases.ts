/**
 * Platform configs for the chart ↔ constructs equivalence: each varies what the chart must
 * reproduce (template by id or tags, clone mode, storage, format, pool, VLAN, boot disk,
 * per-tenant pools and VMID ranges, control-plane exposure, node-group sizes, labels, roles, tags, nodes, SSH keys with
 * characters JSON encoders treat differently, address ranges, cluster networks, health check
 * timeouts and maxUnhealthy as a count and as a share).
 */
import { defaultConfig, defaultNodeGroup, defaultTenant } from "../../../config/index.js";
import type { PlatformConfig } from "../../../config/types.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";

export interface EquivalenceCase {
  readonly name: string;
  readonly config: PlatformConfig;
}

const base = testPlatformConfig();

export const equivalenceCases: readonly EquivalenceCase[] = [
  { name: "the built-in default config", config: defaultConfig() },
  {
    name: "template by tags, VLAN, pool, qcow2 on another storage, virtio boot disk, fixed LB address, two groups with roles, labels, tags and nodes, SSH keys",
    config: {
      ...base,
      proxmox: {
        ...base.proxmox,
        template: { kind: "tags", tags: ["ubuntu-2404", "k8s"], matchPolicy: "exact" },
        vlan: 42,
        pool: "tenants",
        diskFormat: "qcow2",
        diskStorage: "ceph-vm",
        bootDevice: "virtio0",
      },
      tenants: [
        {
          ...defaultTenant("alpha", "v1.31.4"),
          controlPlane: { replicas: 3, serviceType: "LoadBalancer", address: "10.0.0.50", dataStore: "tenant-alpha" },
          nodeGroups: [
            {
              ...defaultNodeGroup("general"),
              replicas: 3,
              minReplicas: 1,
              maxReplicas: 6,
              sockets: 2,
              cores: 3,
              memoryMiB: 6104,
              diskGiB: 40,
              tags: ["team-a", "prod"],
              allowedNodes: ["pve2", "pve3"],
              labels: { "node-role.kubernetes.io/ingress-nginx": "", "node.cluster.x-k8s.io/pool": "general", "example.com/tier": "web", "zone": "a" },
            },
            {
              ...defaultNodeGroup("big"),
              replicas: 0,
              minReplicas: 0,
              maxReplicas: 2,
              memoryMiB: 16384,
              labels: { "node-role.kubernetes.io/big": "" },
              // health check settings: a count, a short unhealthy timeout, no startup check
              nodeStartupTimeout: "0s",
              unhealthyTimeout: "45s",
              maxUnhealthy: "1",
            },
          ],
          sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 <ops&dev>@example.com", "ssh-rsa AAAAB3NzaC1yc2E admin"],
          addressRanges: [
            { start: "10.0.0.120", end: "10.0.0.129" },
            { start: "10.0.0.140", end: "10.0.0.140" },
          ],
          proxmox: { pool: "tenant-alpha", vmIdRange: { start: 2000, end: 2099 } },
        },
      ],
    },
  },
  {
    name: "linked clones, insecure TLS, NodePort, one replica, other cluster networks and DNS, two tenants in one namespace",
    config: {
      ...base,
      proxmox: { ...base.proxmox, fullClone: false, tls: { insecure: true }, allowedNodes: ["pve1"] },
      network: { ...base.network, prefix: 22, gateway: "10.0.3.254", dnsServers: ["10.0.0.1", "1.1.1.1"] },
      tenants: [
        {
          ...defaultTenant("beta", "v1.33.1"),
          namespace: "tenant-shared",
          controlPlane: { replicas: 1, serviceType: "NodePort", dataStore: "tenant-root" },
          podCidr: "10.244.0.0/16",
          serviceCidr: "10.96.0.0/12",
          addressRanges: [{ start: "10.0.1.10", end: "10.0.1.30" }],
          proxmox: { vmIdRange: { start: 3000, end: 3002 } },
        },
        {
          ...defaultTenant("gamma", "v1.28.15"),
          namespace: "tenant-shared",
          nodeGroups: [{ ...defaultNodeGroup("w"), replicas: 1, minReplicas: 1, maxReplicas: 1, sockets: 4, cores: 1, memoryMiB: 2048, diskGiB: 5, nodeStartupTimeout: "1h5m30s", maxUnhealthy: "25%" }],
          addressRanges: [{ start: "10.0.2.10", end: "10.0.2.30" }],
          proxmox: { pool: "gamma", vmIdRange: { start: 3003, end: 3004 }, tokenId: "gamma@pve!capmox", secret: { env: "GAMMA_SECRET" } },
        },
      ],
    },
  },
  {
    name: "profile cozystack-v1.6: v1.6's value names (diskSize, vMAJOR.MINOR), template by tags, VLAN, pool",
    config: {
      ...base,
      profile: "cozystack-v1.6",
      proxmox: { ...base.proxmox, template: { kind: "tags", tags: ["ubuntu-2404"], matchPolicy: "exact" }, vlan: 12, pool: "tenants" },
      tenants: [
        {
          // v1.33.13 is the chart's patch of v1.33: written as `version: v1.33`
          ...defaultTenant("delta", "v1.33.13"),
          nodeGroups: [
            { ...defaultNodeGroup("web"), replicas: 2, minReplicas: 2, maxReplicas: 6, diskGiB: 40, labels: { "node-role.kubernetes.io/ingress-nginx": "" } },
            { ...defaultNodeGroup("big"), replicas: 1, minReplicas: 0, maxReplicas: 3, sockets: 2, cores: 4, memoryMiB: 16384 },
          ],
          addressRanges: [{ start: "10.0.0.170", end: "10.0.0.179" }],
        },
        // a release other than the chart's patch: written whole
        { ...defaultTenant("epsilon", "v1.35.2"), addressRanges: [{ start: "10.0.0.180", end: "10.0.0.189" }] },
      ],
    },
  },
];
