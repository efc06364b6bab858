/** Tenant clusters as cdk8s constructs (Cluster API + capmox + Kamaji) and their rendering. */
export { supportedApis, UnsupportedApiError, requireProfile, type ObjectRef } from "./api.js";
export { Cluster, type ClusterProps } from "./cluster.js";
export { canonicalJson, specHash } from "./hash.js";
export { KamajiControlPlane, type KamajiControlPlaneProps } from "./kamaji-control-plane.js";
export { emittedKinds } from "./kinds.js";
export { KubeadmConfigTemplate, providerIdArg, type KubeadmConfigTemplateProps } from "./kubeadm-config-template.js";
export {
  autoscalerMaxAnnotation,
  autoscalerMinAnnotation,
  capacityCpuAnnotation,
  capacityMemoryAnnotation,
  MachineDeployment,
  type MachineDeploymentProps,
} from "./machine-deployment.js";
export { MachineHealthCheck, type MachineHealthCheckProps } from "./machine-health-check.js";
export { clusterNameLabel, credentialsSecretName, deploymentName, deploymentNameLabel, machineTag } from "./names.js";
export { NodeGroup, splitLabels, type NodeGroupProps } from "./node-group.js";
export { ProxmoxCluster, type ProxmoxClusterProps } from "./proxmox-cluster.js";
export { ProxmoxMachineTemplate, type ProxmoxMachineTemplateProps } from "./proxmox-machine-template.js";
export { renderTenants, tenantObjects, toYamlStream, type KubeObject } from "./render.js";
export { TenantCluster, type TenantClusterProps } from "./tenant-cluster.js";
export { ConstructPropError } from "./validation.js";
