/**
 * The ProxmoxCluster: where capmox may put VMs and which addresses they get. Kamaji runs the
 * control plane, so the endpoint is external (`externalManagedControlPlane`) and left empty
 * for the Kamaji provider to fill in; `{}` would fail the CRD's minProperties.
 */
import { Construct } from "constructs";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import * as v1alpha1 from "./imports/capmox-v0.7.7-v1alpha1-infrastructure.cluster.x-k8s.io.js";
import { clusterNameLabel } from "./names.js";
import { ConstructPropError, requireInteger, requireName } from "./validation.js";

export interface ProxmoxClusterProps {
  /** Name; equals the Cluster name (capmox labels IP claims with it). */
  readonly name: string;
  readonly namespace: string;
  readonly apiVersions: ApiVersions;
  /** Proxmox nodes VMs may be placed on. */
  readonly allowedNodes: readonly string[];
  /** Node addresses: `a.b.c.d-a.b.c.e` ranges, CIDRs or single addresses. capmox makes an IP pool of them. */
  readonly addresses: readonly string[];
  /** Prefix length of the node subnet. */
  readonly prefix: number;
  readonly gateway: string;
  /** DNS servers for the VMs; capmox requires at least one. */
  readonly dnsServers: readonly string[];
  /** Secret with the Proxmox url/token/secret for this cluster (created by the bootstrap, never generated). */
  readonly credentialsSecret: string;
  /** Route metric of the default route. @default 100 */
  readonly metric?: number;
}

export class ProxmoxCluster extends Construct {
  readonly ref: ObjectRef;

  constructor(scope: Construct, id: string, props: ProxmoxClusterProps) {
    super(scope, id);
    const apiVersion = requireApi(props.apiVersions, "capmox", "ProxmoxCluster");
    requireName("ProxmoxCluster", "name", props.name);
    requireName("ProxmoxCluster", "credentialsSecret", props.credentialsSecret);
    requireInteger("ProxmoxCluster", "prefix", props.prefix, 1, 32);
    for (const [field, list] of [["addresses", props.addresses], ["dnsServers", props.dnsServers], ["allowedNodes", props.allowedNodes]] as const) {
      if (list.length === 0) throw new ConstructPropError("ProxmoxCluster", field, list, "must not be empty");
    }
    this.ref = { apiVersion, kind: "ProxmoxCluster", name: props.name };
    new v1alpha1.ProxmoxCluster(this, "Resource", {
      metadata: { name: props.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.name } },
      spec: {
        externalManagedControlPlane: true,
        allowedNodes: [...props.allowedNodes],
        ipv4Config: { addresses: [...props.addresses], prefix: props.prefix, gateway: props.gateway, metric: props.metric ?? 100 },
        dnsServers: [...props.dnsServers],
        credentialsRef: { name: props.credentialsSecret, namespace: props.namespace },
      },
    });
  }
}
