/**
 * A node group's machines: CAPI keeps `replicas` Machines of the two templates, and the
 * cluster autoscaler (when one runs) scales between the min/max annotations.
 */
import { Construct } from "constructs";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import * as v1beta1 from "./imports/capi-v1.12.9-v1beta1-cluster.x-k8s.io.js";
import { clusterNameLabel, deploymentNameLabel } from "./names.js";
import { ConstructPropError, requireInteger, requireName } from "./validation.js";

export interface MachineDeploymentProps {
  readonly name: string;
  readonly namespace: string;
  readonly clusterName: string;
  readonly apiVersions: ApiVersions;
  /** Kubernetes version of the machines, `vX.Y.Z`. */
  readonly version: string;
  readonly replicas: number;
  /** Autoscaler lower bound. @default replicas */
  readonly minReplicas?: number;
  /** Autoscaler upper bound. @default replicas */
  readonly maxReplicas?: number;
  /** The KubeadmConfigTemplate. */
  readonly bootstrapRef: ObjectRef;
  /** The ProxmoxMachineTemplate. */
  readonly infrastructureRef: ObjectRef;
  /** Extra labels on the Machines (CAPI copies `node-role.kubernetes.io/*` ones to the Nodes). @default {} */
  readonly machineLabels?: Readonly<Record<string, string>>;
  /**
   * What one machine offers: the autoscaler reads it from annotations to scale a group up
   * from zero, when no Node exists to look at. @default - no capacity annotations
   */
  readonly capacity?: { readonly cpu: number; readonly memoryMiB: number };
}

/** Annotations the cluster autoscaler's clusterapi provider reads. */
export const autoscalerMinAnnotation = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
export const autoscalerMaxAnnotation = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";
export const capacityCpuAnnotation = "capacity.cluster-autoscaler.kubernetes.io/cpu";
export const capacityMemoryAnnotation = "capacity.cluster-autoscaler.kubernetes.io/memory";

function capacityAnnotations(capacity: MachineDeploymentProps["capacity"]): Record<string, string> {
  if (!capacity) return {};
  requireInteger("MachineDeployment", "capacity.cpu", capacity.cpu, 1);
  requireInteger("MachineDeployment", "capacity.memoryMiB", capacity.memoryMiB, 1);
  return { [capacityCpuAnnotation]: String(capacity.cpu), [capacityMemoryAnnotation]: `${capacity.memoryMiB}Mi` };
}

function checkReplicas(p: MachineDeploymentProps): { min: number; max: number } {
  const min = p.minReplicas ?? p.replicas;
  const max = p.maxReplicas ?? p.replicas;
  requireInteger("MachineDeployment", "replicas", p.replicas, 0);
  requireInteger("MachineDeployment", "minReplicas", min, 0);
  requireInteger("MachineDeployment", "maxReplicas", max, 0);
  if (min > p.replicas) throw new ConstructPropError("MachineDeployment", "minReplicas", min, `must not exceed replicas (${p.replicas})`);
  if (max < p.replicas) throw new ConstructPropError("MachineDeployment", "maxReplicas", max, `must not be below replicas (${p.replicas})`);
  return { min, max };
}

export class MachineDeployment extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: MachineDeploymentProps) {
    super(scope, id);
    requireApi(props.apiVersions, "capiCore", "MachineDeployment");
    requireName("MachineDeployment", "name", props.name);
    if (props.name.length > 63) throw new ConstructPropError("MachineDeployment", "name", props.name, "must be at most 63 characters (it becomes a label value)");
    const { min, max } = checkReplicas(props);
    this.name = props.name;
    const selector = { [clusterNameLabel]: props.clusterName, [deploymentNameLabel]: props.name };
    new v1beta1.MachineDeployment(this, "Resource", {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { [clusterNameLabel]: props.clusterName },
        annotations: { [autoscalerMinAnnotation]: String(min), [autoscalerMaxAnnotation]: String(max), ...capacityAnnotations(props.capacity) },
      },
      spec: {
        clusterName: props.clusterName,
        replicas: props.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...props.machineLabels, ...selector } },
          spec: {
            clusterName: props.clusterName,
            version: props.version,
            bootstrap: { configRef: { ...props.bootstrapRef, namespace: props.namespace } },
            infrastructureRef: { ...props.infrastructureRef, namespace: props.namespace },
          },
        },
      },
    });
  }
}
