/**
 * The kinds the tenant-cluster constructs emit, by the API of the versions profile they
 * belong to. `npm run imports` generates typed classes for exactly these.
 */
import type { ApiVersions } from "../versions/index.js";

export const emittedKinds: Readonly<Record<keyof ApiVersions, readonly string[]>> = {
  capiCore: ["Cluster", "MachineDeployment", "MachineHealthCheck"],
  capiBootstrap: ["KubeadmConfigTemplate"],
  capmox: ["ProxmoxCluster", "ProxmoxMachineTemplate"],
  kamajiControlPlane: ["KamajiControlPlane"],
  // capmox makes the cluster's InClusterIPPool itself from ProxmoxCluster.ipv4Config.
  ipam: [],
};
