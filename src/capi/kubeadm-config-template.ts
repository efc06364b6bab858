/**
 * How a worker VM joins the tenant cluster. The kubelet's provider ID is the VM's SMBIOS
 * UUID (`proxmox://<uuid>`), which capmox writes as the cloud-init instance id; it must
 * match the Machine's providerID or CAPI never links the Node.
 */
import { Construct } from "constructs";
import type { ApiVersions } from "../versions/index.js";
import { requireApi, type ObjectRef } from "./api.js";
import { specHash } from "./hash.js";
import * as v1beta1 from "./imports/capi-v1.12.9-v1beta1-bootstrap.cluster.x-k8s.io.js";
import { clusterNameLabel } from "./names.js";
import { ConstructPropError, requireName } from "./validation.js";

type Spec = v1beta1.KubeadmConfigTemplateSpecTemplateSpec;

export interface KubeadmConfigTemplateProps {
  /** Name without the hash suffix, e.g. `<tenant>-<group>`. */
  readonly baseName: string;
  readonly namespace: string;
  readonly clusterName: string;
  readonly apiVersions: ApiVersions;
  /** SSH public keys of the VMs' user. @default [] (no user is added) */
  readonly sshAuthorizedKeys?: readonly string[];
  /** User that gets the keys and password-less sudo. @default "ubuntu" */
  readonly user?: string;
  /** Labels the kubelet registers the Node with (`--node-labels`). @default {} */
  readonly nodeLabels?: Readonly<Record<string, string>>;
}

/** Jinja in the kubeadm cloud-config: capmox sets meta-data instance-id to the SMBIOS UUID. */
export const providerIdArg = "proxmox://'{{ ds.meta_data.instance_id }}'";

function kubeletArgs(labels: Readonly<Record<string, string>>): Record<string, string> {
  const nodeLabels = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return {
    "provider-id": providerIdArg,
    // nodes wait for the Proxmox cloud controller manager to initialise them
    "cloud-provider": "external",
    ...(nodeLabels ? { "node-labels": nodeLabels } : {}),
  };
}

function spec(p: KubeadmConfigTemplateProps): Spec {
  const keys = p.sshAuthorizedKeys ?? [];
  return {
    joinConfiguration: {
      nodeRegistration: { name: "{{ local_hostname }}", kubeletExtraArgs: kubeletArgs(p.nodeLabels ?? {}) },
    },
    ...(keys.length > 0
      ? { users: [{ name: p.user ?? "ubuntu", sudo: "ALL=(ALL) NOPASSWD:ALL", sshAuthorizedKeys: [...keys] }] }
      : {}),
  };
}

export class KubeadmConfigTemplate extends Construct {
  readonly ref: ObjectRef;
  readonly name: string;

  constructor(scope: Construct, id: string, props: KubeadmConfigTemplateProps) {
    super(scope, id);
    const apiVersion = requireApi(props.apiVersions, "capiBootstrap", "KubeadmConfigTemplate");
    const bad = Object.entries(props.nodeLabels ?? {}).find(([k, v]) => /[,=\s]/.test(k) || /[,=\s]/.test(v));
    if (bad) throw new ConstructPropError("KubeadmConfigTemplate", `nodeLabels[${JSON.stringify(bad[0])}]`, bad[1], "cannot be passed to --node-labels");
    const templateSpec = spec(props);
    // templates are copied into each Machine's KubeadmConfig: a new spec needs a new name to roll
    this.name = `${props.baseName}-${specHash(templateSpec)}`;
    requireName("KubeadmConfigTemplate", "baseName", this.name);
    this.ref = { apiVersion, kind: "KubeadmConfigTemplate", name: this.name };
    new v1beta1.KubeadmConfigTemplate(this, "Resource", {
      metadata: { name: this.name, namespace: props.namespace, labels: { [clusterNameLabel]: props.clusterName } },
      spec: { template: { spec: templateSpec } },
    });
  }
}
