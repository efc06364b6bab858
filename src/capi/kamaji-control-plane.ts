/**
 * The tenant's control plane: Kamaji runs it as pods in the management cluster and exposes
 * it through a Service, whose address the Kamaji provider writes into the ProxmoxCluster.
 */
import { Construct } from "constructs";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import * as v1alpha1 from "./imports/kamaji-capi-v0.19.0-v1alpha1-controlplane.cluster.x-k8s.io.js";
import { clusterNameLabel } from "./names.js";
import { ConstructPropError, requireInteger, requireName } from "./validation.js";

export interface KamajiControlPlaneProps {
  /** Name; equals the Cluster name. */
  readonly name: string;
  readonly namespace: string;
  readonly apiVersions: ApiVersions;
  /** Kubernetes version, `vX.Y.Z`. */
  readonly version: string;
  /** Control-plane pods. @default 2 */
  readonly replicas?: number;
  /** How the API server is exposed; workers on Proxmox reach it through this. @default "LoadBalancer" */
  readonly serviceType?: "LoadBalancer" | "NodePort" | "ClusterIP";
  /** Fixed address of the Service. @default - assigned by the load balancer */
  readonly address?: string;
  /** Kamaji DataStore for the etcd data. @default "tenant-root" */
  readonly dataStore?: string;
}

const versionPattern = /^v\d+\.\d+\.\d+$/;

export class KamajiControlPlane extends Construct {
  readonly ref: ObjectRef;

  constructor(scope: Construct, id: string, props: KamajiControlPlaneProps) {
    super(scope, id);
    const apiVersion = requireApi(props.apiVersions, "kamajiControlPlane", "KamajiControlPlane");
    requireName("KamajiControlPlane", "name", props.name);
    if (!versionPattern.test(props.version)) {
      throw new ConstructPropError("KamajiControlPlane", "version", props.version, "must look like v1.32.6");
    }
    const replicas = props.replicas ?? 2;
    requireInteger("KamajiControlPlane", "replicas", replicas, 1);
    this.ref = { apiVersion, kind: "KamajiControlPlane", name: props.name };
    new v1alpha1.KamajiControlPlane(this, "Resource", {
      metadata: { name: props.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.name } },
      spec: {
        version: props.version,
        replicas,
        dataStoreName: props.dataStore ?? "tenant-root",
        addons: { coreDns: {}, kubeProxy: {}, konnectivity: {} },
        kubelet: {
          cgroupfs: v1alpha1.KamajiControlPlaneSpecKubeletCgroupfs.SYSTEMD,
          preferredAddressTypes: [
            v1alpha1.KamajiControlPlaneSpecKubeletPreferredAddressTypes.INTERNAL_IP,
            v1alpha1.KamajiControlPlaneSpecKubeletPreferredAddressTypes.EXTERNAL_IP,
            v1alpha1.KamajiControlPlaneSpecKubeletPreferredAddressTypes.HOSTNAME,
          ],
        },
        network: {
          serviceType: serviceType(props.serviceType ?? "LoadBalancer"),
          ...(props.address ? { serviceAddress: props.address } : {}),
        },
        // CozyStack's network policies only let pods with this label reach the tenant etcd.
        deployment: { podAdditionalMetadata: { labels: { "policy.cozystack.io/allow-to-etcd": "true" } } },
      },
    });
  }
}

function serviceType(value: string): v1alpha1.KamajiControlPlaneSpecNetworkServiceType {
  const types = v1alpha1.KamajiControlPlaneSpecNetworkServiceType;
  const found = Object.values(types).find((t) => t === value);
  if (!found) throw new ConstructPropError("KamajiControlPlane", "serviceType", value, `must be one of ${Object.values(types).join(", ")}`);
  return found;
}
