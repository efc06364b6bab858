/**
 * Replaces worker VMs whose Node never turns Ready or stops being Ready. Remediation stops
 * when too many are unhealthy at once: then the cause is not the VMs.
 */
import { Construct } from "constructs";
import { durationSeconds, nodeStartupTimeoutProblem } from "../config/index.js";
import type { ApiVersions } from "../versions/index.js";
import { requireApi } from "./api.js";
import * as v1beta1 from "./imports/capi-v1.12.9-v1beta1-cluster.x-k8s.io.js";
import { clusterNameLabel, deploymentNameLabel } from "./names.js";
import { ConstructPropError, requireName } from "./validation.js";

export interface MachineHealthCheckProps {
  readonly name: string;
  readonly namespace: string;
  readonly clusterName: string;
  readonly apiVersions: ApiVersions;
  /** The MachineDeployment whose Machines are checked. */
  readonly deploymentName: string;
  /** How long a VM may take from creation to a joined Node (clone, boot, cloud-init, join). @default "20m" */
  readonly nodeStartupTimeout?: string;
  /** How long a Node may be NotReady or Unknown before its VM is replaced. @default "5m" */
  readonly unhealthyTimeout?: string;
  /** The fewest Machines the group may have (autoscaler lower bound): sizes the default `maxUnhealthy`. @default 1 */
  readonly minReplicas?: number;
  /** Stop remediating when more than this share is unhealthy. @default defaultMaxUnhealthy(minReplicas) */
  readonly maxUnhealthy?: string;
}

/**
 * 40%, but never less than one Machine of the smallest group: CAPI rounds the share down,
 * so 40% of 2 Machines is 0 and one failed VM of a two-worker group would never be
 * replaced (the real MachineHealthCheck controller said so: "TooManyUnhealthy").
 */
export function defaultMaxUnhealthy(minReplicas: number): string {
  if (minReplicas <= 1) return "100%";
  return `${Math.max(40, Math.ceil(100 / minReplicas))}%`;
}

function requireDuration(field: string, value: string): string {
  if (durationSeconds(value) === undefined) throw new ConstructPropError("MachineHealthCheck", field, value, "must be a duration like 5m or 300s");
  return value;
}

function requireStartupTimeout(value: string): string {
  const problem = nodeStartupTimeoutProblem(value);
  if (problem !== undefined) throw new ConstructPropError("MachineHealthCheck", "nodeStartupTimeout", value, problem);
  return value;
}

export class MachineHealthCheck extends Construct {
  constructor(scope: Construct, id: string, props: MachineHealthCheckProps) {
    super(scope, id);
    requireApi(props.apiVersions, "capiCore", "MachineHealthCheck");
    requireName("MachineHealthCheck", "name", props.name);
    const timeout = requireDuration("unhealthyTimeout", props.unhealthyTimeout ?? "5m");
    const maxUnhealthy = props.maxUnhealthy ?? defaultMaxUnhealthy(props.minReplicas ?? 1);
    if (!/^\d+%?$/.test(maxUnhealthy)) throw new ConstructPropError("MachineHealthCheck", "maxUnhealthy", maxUnhealthy, "must be a count or a percentage");
    new v1beta1.MachineHealthCheck(this, "Resource", {
      metadata: { name: props.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.clusterName } },
      spec: {
        clusterName: props.clusterName,
        selector: { matchLabels: { [clusterNameLabel]: props.clusterName, [deploymentNameLabel]: props.deploymentName } },
        unhealthyConditions: [
          { type: "Ready", status: "Unknown", timeout },
          { type: "Ready", status: "False", timeout },
        ],
        maxUnhealthy: maxUnhealthy.endsWith("%")
          ? v1beta1.MachineHealthCheckSpecMaxUnhealthy.fromString(maxUnhealthy)
          : v1beta1.MachineHealthCheckSpecMaxUnhealthy.fromNumber(Number(maxUnhealthy)),
        nodeStartupTimeout: requireStartupTimeout(props.nodeStartupTimeout ?? "20m"),
      },
    });
  }
}
