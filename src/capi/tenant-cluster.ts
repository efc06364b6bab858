/**
 * A whole tenant cluster: one chart with the Cluster, its Kamaji control plane, its
 * ProxmoxCluster and every node group. API versions come from the versions profile.
 */
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import type { IpRange, PlatformConfig, TenantConfig } from "../config/index.js";
import { defaults, tenantPool } from "../config/index.js";
import { getProfile } from "../versions/index.js";
import { requireProfile } from "./api.js";
import { Cluster } from "./cluster.js";
import { KamajiControlPlane } from "./kamaji-control-plane.js";
import { credentialsSecretName } from "./names.js";
import { NodeGroup } from "./node-group.js";
import { ProxmoxCluster } from "./proxmox-cluster.js";

export interface TenantClusterProps {
  /** The platform: Proxmox, node network and versions profile. */
  readonly platform: PlatformConfig;
  /** The tenant to render. */
  readonly tenant: TenantConfig;
}

function capmoxRange(r: IpRange): string {
  return r.start === r.end ? r.start : `${r.start}-${r.end}`;
}

export class TenantCluster extends Chart {
  constructor(scope: Construct, id: string, props: TenantClusterProps) {
    const { platform, tenant } = props;
    super(scope, id, { namespace: tenant.namespace, disableResourceNameHashes: true });
    const profile = getProfile(platform.profile);
    requireProfile(profile);
    const apiVersions = profile.api;
    const common = { name: tenant.name, namespace: tenant.namespace, apiVersions };
    const controlPlane = new KamajiControlPlane(this, "ControlPlane", {
      ...common,
      version: tenant.version,
      replicas: tenant.controlPlane.replicas,
      serviceType: tenant.controlPlane.serviceType,
      address: tenant.controlPlane.address,
      dataStore: tenant.controlPlane.dataStore,
    });
    const infrastructure = new ProxmoxCluster(this, "Infrastructure", {
      ...common,
      allowedNodes: platform.proxmox.allowedNodes,
      addresses: (tenant.addressRanges ?? platform.network.addressRanges).map(capmoxRange),
      prefix: platform.network.prefix,
      gateway: platform.network.gateway,
      dnsServers: platform.network.dnsServers,
      credentialsSecret: credentialsSecretName(tenant.name),
    });
    new Cluster(this, "Cluster", {
      ...common,
      podCidrs: [tenant.podCidr ?? defaults.podCidr],
      serviceCidrs: [tenant.serviceCidr ?? defaults.serviceCidr],
      controlPlaneRef: controlPlane.ref,
      infrastructureRef: infrastructure.ref,
    });
    for (const group of tenant.nodeGroups) {
      new NodeGroup(this, `NodeGroup-${group.name}`, {
        clusterName: tenant.name,
        namespace: tenant.namespace,
        apiVersions,
        version: tenant.version,
        group,
        proxmox: platform.proxmox,
        sshAuthorizedKeys: tenant.sshAuthorizedKeys,
        pool: tenantPool(platform, tenant),
        vmIdRange: tenant.proxmox?.vmIdRange,
      });
    }
  }
}
