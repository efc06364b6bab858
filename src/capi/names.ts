/**
 * Names shared between the generated manifests and the code that operates on them (the
 * bootstrap creates the credentials Secret; stages look up deployments by label).
 */

/** Secret (keys url, token, secret, optional root_ca/insecure) that ProxmoxCluster.credentialsRef names. */
export function credentialsSecretName(tenantName: string): string {
  return `${tenantName}-proxmox-credentials`;
}

/** MachineDeployment (and MachineHealthCheck) of a node group. */
export function deploymentName(tenantName: string, groupName: string): string {
  return `${tenantName}-${groupName}`;
}

/**
 * The Proxmox tag every VM of a node group gets. A template never carries it, so capmox
 * always has a config change to make and never skips the boot (capmox bug #848).
 */
export function machineTag(tenantName: string, groupName: string): string {
  return `capi-${tenantName}-${groupName}`;
}

/** Labels CAPI uses to find a cluster's and a deployment's objects. */
export const clusterNameLabel = "cluster.x-k8s.io/cluster-name";
export const deploymentNameLabel = "cluster.x-k8s.io/deployment-name";
