/**
 * templates/cluster.yaml: the Cluster, its Kamaji control plane (a LoadBalancer Service the
 * VMs reach) and its ProxmoxCluster, field for field as src/capi's constructs emit them.
 */
import { clusterNameLabel, credentialsSecretName } from "../../../capi/index.js";
import { defaults } from "../../../config/index.js";
import { printfOf } from "../go-template.js";
import type { TemplateContext } from "./context.js";
import { header } from "./helpers.js";

export function clusterYaml(ctx: TemplateContext): string {
  const { api } = ctx;
  return `${header}
{{- $cluster := include "kp.cluster" . }}
{{- $ns := .Release.Namespace }}
{{- $cp := .Values.controlPlane }}
{{- $net := .Values.network }}
---
apiVersion: ${api.kamajiControlPlane}
kind: KamajiControlPlane
metadata:
  name: {{ $cluster | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  version: {{ .Values.version | quote }}
  replicas: {{ int $cp.replicas }}
  dataStoreName: {{ include "kp.dataStore" . | quote }}
  addons:
    coreDNS: {}
    kubeProxy: {}
    {{- with $cp.konnectivity.server.resources }}
    konnectivity:
      server:
        port: 8132
        resources:
          {{- include "kp.resources" . | nindent 10 }}
    {{- else }}
    konnectivity: {}
    {{- end }}
  {{- range $component := list "apiServer" "controllerManager" "scheduler" }}
  {{- with (get $cp $component).resources }}
  {{ $component }}:
    resources:
      {{- include "kp.resources" . | nindent 6 }}
  {{- end }}
  {{- end }}
  kubelet:
    cgroupfs: systemd
    preferredAddressTypes:
      - InternalIP
      - ExternalIP
      - Hostname
  network:
    serviceType: {{ $cp.serviceType | quote }}
    {{- with $cp.address }}
    serviceAddress: {{ . | quote }}
    {{- end }}
  deployment:
    podAdditionalMetadata:
      labels:
        # CozyStack's network policies let only pods with this label reach the tenant etcd.
        policy.cozystack.io/allow-to-etcd: "true"
---
apiVersion: ${api.capmox}
kind: ProxmoxCluster
metadata:
  name: {{ $cluster | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  # Kamaji runs the control plane; its provider fills in controlPlaneEndpoint with the LoadBalancer address.
  externalManagedControlPlane: true
  allowedNodes:
    {{- toYaml .Values.proxmox.allowedNodes | nindent 4 }}
  ipv4Config:
    addresses:
      {{- range $net.addressRanges }}
      - {{ ternary .start (printf "%s-%s" .start .end) (eq .start .end) | quote }}
      {{- end }}
    prefix: {{ int $net.prefix }}
    gateway: {{ $net.gateway | quote }}
    metric: 100
  dnsServers:
    {{- toYaml $net.dnsServers | nindent 4 }}
  credentialsRef:
    name: {{ ${printfOf(credentialsSecretName, "$cluster")} | quote }}
    namespace: {{ $ns | quote }}
---
apiVersion: ${api.capiCore}
kind: Cluster
metadata:
  name: {{ $cluster | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  clusterNetwork:
    pods:
      cidrBlocks:
        - {{ .Values.clusterNetwork.podCidr | default ${JSON.stringify(defaults.podCidr)} | quote }}
    services:
      cidrBlocks:
        - {{ .Values.clusterNetwork.serviceCidr | default ${JSON.stringify(defaults.serviceCidr)} | quote }}
    serviceDomain: cluster.local
  controlPlaneRef:
    apiVersion: ${api.kamajiControlPlane}
    kind: KamajiControlPlane
    name: {{ $cluster | quote }}
    namespace: {{ $ns | quote }}
  infrastructureRef:
    apiVersion: ${api.capmox}
    kind: ProxmoxCluster
    name: {{ $cluster | quote }}
    namespace: {{ $ns | quote }}
`;
}
