/**
 * templates/addons.yaml: what Flux installs into the tenant cluster through Kamaji's admin
 * kubeconfig: Cilium (the pod network), the Proxmox CCM (initialises the nodes:
 * providerID, topology labels) and the Proxmox CSI plugin, plus the optional add-ons.
 *
 * The CCM and CSI plugin need the Proxmox API token inside the tenant cluster. It never
 * passes through the chart: Flux reads it from the cluster's credentials Secret (the one
 * the ProxmoxCluster uses, keys `token` and `secret`) into the release values
 * (`valuesFrom … targetPath`); the rest of their Proxmox settings comes from a ConfigMap.
 */
import { credentialsSecretName } from "../../../capi/index.js";
import { ccmNamespace } from "../../charts/proxmox-ccm.js";
import { csiNamespace } from "../../charts/proxmox-csi.js";
import { goString, printfOf } from "../go-template.js";
import { proxmoxAccessConfigMap, targetClusterLabel } from "../names.js";
import type { TemplateContext } from "./context.js";
import { header } from "./helpers.js";

/** The optional add-ons: value key → HelmReleases (name, CozyStack system chart, namespace in the tenant). */
export const optionalAddons = {
  certManager: [
    { name: "cert-manager-crds", chart: "cozy-cert-manager-crds", namespace: "cozy-cert-manager", dependsOn: ["cilium"] },
    { name: "cert-manager", chart: "cozy-cert-manager", namespace: "cozy-cert-manager", dependsOn: ["cilium", "cert-manager-crds"] },
  ],
  gatewayAPI: [{ name: "gateway-api-crds", chart: "cozy-gateway-api-crds", namespace: "kube-system", dependsOn: [] }],
  fluxcd: [
    { name: "fluxcd-operator", chart: "cozy-fluxcd-operator", namespace: "cozy-fluxcd", dependsOn: ["cilium"] },
    { name: "fluxcd", chart: "cozy-fluxcd", namespace: "cozy-fluxcd", dependsOn: ["cilium", "fluxcd-operator"] },
  ],
} as const;

/** The chart the always-installed releases use besides the overlay's CCM and CSI charts. */
export const ciliumChart = "cozy-cilium";

/** valuesFrom of a Proxmox plugin: non-secret settings from the ConfigMap, the token from the credentials Secret. */
function pluginValuesFrom(valuesKey: string, file: string): string {
  const secret = (key: string, field: string): string =>
    `(dict "kind" "Secret" "name" $credentials "valuesKey" ${goString(key)} "targetPath" ${goString(`${valuesKey}.config.clusters[0].${field}`)})`;
  return `(list (dict "kind" "ConfigMap" "name" $access "valuesKey" ${goString(file)}) ${secret("token", "token_id")} ${secret("secret", "token_secret")})`;
}

function optionalReleases(): string {
  return Object.entries(optionalAddons)
    .map(([key, releases]) => {
      const items = releases.map((r, i) => {
        // The add-on's valuesOverride goes to its last release (the component itself, not its CRDs).
        const values = i === releases.length - 1 && key !== "gatewayAPI" ? `(deepCopy ($addons.${key}.valuesOverride | default dict))` : "(dict)";
        const depends = `(list ${r.dependsOn.map((d) => goString(d)).join(" ")})`;
        return `{{- include "kp.helmRelease" (dict "root" $ "name" ${goString(r.name)} "chart" ${goString(r.chart)} "targetNamespace" ${goString(r.namespace)} "values" ${values} "dependsOn" ${depends}) }}`;
      });
      return `{{- if $addons.${key}.enabled }}\n${items.join("\n")}\n{{- end }}`;
    })
    .join("\n");
}

export function addonsYaml(ctx: TemplateContext): string {
  const { ccm, csi } = ctx;
  const plugin = (key: string): string =>
    `(dict ${goString(key)} (dict "config" (dict "features" (fromJson ${goString(JSON.stringify(ctx.pluginFeatures))}) "clusters" (list $endpoint))))`;
  // In a tenant cluster there are no control-plane nodes, and every node starts tainted
  // uninitialised until the CCM ran: schedule anywhere, tolerate everything.
  const placement = `"nodeSelector" (dict) "tolerations" (list (dict "operator" "Exists"))`;
  // The overlay's charts mount a management-cluster Secret; in the tenant the token comes through values instead.
  const noMounts = `"extraVolumes" (list) "extraVolumeMounts" (list)`;
  return `${header}
{{- $cluster := include "kp.cluster" . }}
{{- $ns := .Release.Namespace }}
{{- $px := .Values.proxmox }}
{{- $addons := .Values.addons }}
{{- $access := ${printfOf(proxmoxAccessConfigMap, "$cluster")} }}
{{- $credentials := ${printfOf(credentialsSecretName, "$cluster")} }}
{{- $endpoint := dict "url" (printf "%s/api2/json" (trimSuffix "/" $px.url)) "insecure" $px.insecure "region" $px.region }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $access | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${targetClusterLabel}: {{ $cluster | quote }}
data:
  proxmox-ccm.yaml: |
    {{- toYaml ${plugin(ccm.valuesKey)} | nindent 4 }}
  proxmox-csi.yaml: |
    {{- toYaml ${plugin(csi.valuesKey)} | nindent 4 }}
{{- $cilium := dict "cilium" (dict "kubeProxyReplacement" false "routingMode" "tunnel" "ipam" (dict "mode" "kubernetes")) }}
{{- include "kp.helmRelease" (dict "root" $ "name" "cilium" "chart" ${goString(ciliumChart)} "targetNamespace" "cozy-cilium" "values" (mergeOverwrite $cilium (deepCopy ($addons.cilium.valuesOverride | default dict)))) }}
{{- $ccm := dict ${goString(ccm.valuesKey)} (dict ${placement} ${noMounts}) }}
{{- include "kp.helmRelease" (dict "root" $ "name" "proxmox-ccm" "chart" ${goString(ccm.chart)} "targetNamespace" ${goString(ccmNamespace)} "values" (mergeOverwrite $ccm (deepCopy ($addons.proxmoxCcm.valuesOverride | default dict))) "valuesFrom" ${pluginValuesFrom(ccm.valuesKey, "proxmox-ccm.yaml")} "dependsOn" (list "cilium")) }}
{{- $storageClass := dict "name" .Values.storageClass "storage" $px.storage "fstype" "ext4" "reclaimPolicy" "Delete" "annotations" (dict "storageclass.kubernetes.io/is-default-class" "true") "allowedTopologies" (list (dict "matchLabelExpressions" (list (dict "key" "topology.kubernetes.io/region" "values" (list $px.region))))) }}
{{- $csi := dict ${goString(csi.valuesKey)} (dict ${placement} ${noMounts} "storageClass" (list $storageClass)) }}
{{- include "kp.helmRelease" (dict "root" $ "name" "proxmox-csi" "chart" ${goString(csi.chart)} "targetNamespace" ${goString(csiNamespace)} "values" (mergeOverwrite $csi (deepCopy ($addons.proxmoxCsi.valuesOverride | default dict))) "valuesFrom" ${pluginValuesFrom(csi.valuesKey, "proxmox-csi.yaml")} "dependsOn" (list "cilium" "proxmox-ccm")) }}
${optionalReleases()}
`;
}
