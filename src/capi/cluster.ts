/** The CAPI Cluster: ties the Kamaji control plane and the ProxmoxCluster together. */
import { Construct } from "constructs";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import * as v1beta1 from "./imports/capi-v1.12.9-v1beta1-cluster.x-k8s.io.js";
import { clusterNameLabel } from "./names.js";
import { requireName } from "./validation.js";

export interface ClusterProps {
  /** Cluster name; the control plane and ProxmoxCluster carry the same name. */
  readonly name: string;
  readonly namespace: string;
  /** API versions of the versions profile. */
  readonly apiVersions: ApiVersions;
  /** Pod network inside the cluster. */
  readonly podCidrs: readonly string[];
  /** Service network inside the cluster. */
  readonly serviceCidrs: readonly string[];
  /** DNS domain of services. @default "cluster.local" */
  readonly serviceDomain?: string;
  /** The control-plane object (KamajiControlPlane). */
  readonly controlPlaneRef: ObjectRef;
  /** The infrastructure object (ProxmoxCluster). */
  readonly infrastructureRef: ObjectRef;
}

export class Cluster extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    requireApi(props.apiVersions, "capiCore", "Cluster");
    requireName("Cluster", "name", props.name);
    this.name = props.name;
    new v1beta1.Cluster(this, "Resource", {
      metadata: { name: props.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.name } },
      spec: {
        clusterNetwork: {
          pods: { cidrBlocks: [...props.podCidrs] },
          services: { cidrBlocks: [...props.serviceCidrs] },
          serviceDomain: props.serviceDomain ?? "cluster.local",
        },
        controlPlaneRef: { ...props.controlPlaneRef, namespace: props.namespace },
        infrastructureRef: { ...props.infrastructureRef, namespace: props.namespace },
      },
    });
  }
}
