/**
 * templates/node-groups.yaml: per node group a KubeadmConfigTemplate and a
 * ProxmoxMachineTemplate, both named after a hash of their spec (templates are immutable: a
 * changed spec is a new template and the MachineDeployment rolls), the MachineDeployment
 * with the autoscaler's bounds and capacity, and a MachineHealthCheck. The specs are built
 * as data, hashed with kp.hash, and emitted from that same data.
 */
import {
  autoscalerMaxAnnotation,
  autoscalerMinAnnotation,
  capacityCpuAnnotation,
  capacityMemoryAnnotation,
  clusterNameLabel,
  deploymentName,
  deploymentNameLabel,
  machineTag,
  providerIdArg,
} from "../../../capi/index.js";
import { defaults } from "../../../config/index.js";
import { goString, printfOf } from "../go-template.js";
import { memoryQuantity, roleLabelPrefix } from "../values.js";
import type { TemplateContext } from "./context.js";
import { header } from "./helpers.js";

/** Label domains Cluster API copies from Machines to Nodes (the kubelet may not set them itself). */
export const machineLabelPattern = "^(node-role\\.kubernetes\\.io|node-restriction\\.kubernetes\\.io|node\\.cluster\\.x-k8s\\.io)/";

/** Sizes and bounds of one group, defaults applied and the cross-field rules checked. */
function groupSettings(): string {
  return `
{{- $replicas := ${defaults.nodeGroupReplicas} }}
{{- if hasKey $g "replicas" }}{{ $replicas = int $g.replicas }}{{ else if hasKey $g "minReplicas" }}{{ $replicas = int $g.minReplicas }}{{ end }}
{{- $min := $replicas }}{{ if hasKey $g "minReplicas" }}{{ $min = int $g.minReplicas }}{{ end }}
{{- $max := $replicas }}{{ if hasKey $g "maxReplicas" }}{{ $max = int $g.maxReplicas }}{{ end }}
{{- if gt $min $replicas }}{{ fail (printf "%s.minReplicas: %d must not exceed replicas (%d)" $at $min $replicas) }}{{ end }}
{{- if lt $max $replicas }}{{ fail (printf "%s.maxReplicas: %d must not be below replicas (%d)" $at $max $replicas) }}{{ end }}
{{- $res := $g.resources | default dict }}
{{- $sockets := ${defaults.sockets} }}{{ if hasKey $g "sockets" }}{{ $sockets = int $g.sockets }}{{ end }}
{{- $cpu := mul $sockets ${defaults.cores} }}{{ if hasKey $res "cpu" }}{{ $cpu = int $res.cpu }}{{ end }}
{{- if ne (mod $cpu $sockets) 0 }}{{ fail (printf "%s.resources.cpu: %d is not a multiple of sockets (%d)" $at $cpu $sockets) }}{{ end }}
{{- $cores := div $cpu $sockets }}
{{- $memory := ${goString(memoryQuantity(defaults.memoryMiB))} }}{{ if hasKey $res "memory" }}{{ $memory = $res.memory }}{{ end }}
{{- $mib := 0 }}
{{- if hasSuffix "Gi" $memory }}{{ $mib = mul 1024 (trimSuffix "Gi" $memory | atoi) }}{{ else }}{{ $mib = trimSuffix "Mi" $memory | atoi }}{{ end }}
{{- if or (lt $mib 8) (ne (mod $mib 8) 0) }}{{ fail (printf "%s.resources.memory: %s is not a multiple of 8 MiB (capmox rejects it)" $at $memory) }}{{ end }}
{{- $disk := ${defaults.diskGiB} }}{{ if hasKey $g "ephemeralStorage" }}{{ $disk = trimSuffix "Gi" $g.ephemeralStorage | atoi }}{{ end }}`;
}

/** Node labels: roles and labels, split into Machine labels and the kubelet's --node-labels (sorted). */
function groupLabels(): string {
  return `
{{- $labels := dict }}
{{- range $role := $g.roles | default list }}{{ $_ := set $labels (printf "${roleLabelPrefix}%s" $role) "" }}{{ end }}
{{- range $k, $val := $g.labels | default dict }}{{ $_ := set $labels $k $val }}{{ end }}
{{- $machineLabels := dict }}
{{- $kubeletLabels := list }}
{{- range $k := keys $labels | sortAlpha }}
{{- if regexMatch ${goString(machineLabelPattern)} $k }}{{ $_ := set $machineLabels $k (get $labels $k) }}
{{- else }}{{ $kubeletLabels = append $kubeletLabels (printf "%s=%s" $k (get $labels $k)) }}{{ end }}
{{- end }}`;
}

/** The KubeadmConfigTemplate spec and its hashed name. */
function bootstrapSpec(): string {
  return `
{{- $args := dict "provider-id" ${goString(providerIdArg)} "cloud-provider" "external" }}
{{- if $kubeletLabels }}{{ $_ := set $args "node-labels" (join "," $kubeletLabels) }}{{ end }}
{{- $bootstrap := dict "joinConfiguration" (dict "nodeRegistration" (dict "name" "{{ local_hostname }}" "kubeletExtraArgs" $args)) }}
{{- with $.Values.sshAuthorizedKeys }}{{ $_ := set $bootstrap "users" (list (dict "name" "ubuntu" "sudo" "ALL=(ALL) NOPASSWD:ALL" "sshAuthorizedKeys" .)) }}{{ end }}
{{- $bootstrapName := printf "%s-%s" $name (include "kp.hash" $bootstrap) }}`;
}

/** The ProxmoxMachineTemplate spec and its hashed name. */
function machineSpec(cluster: string, group: string): string {
  return `
{{- $full := true }}{{ if hasKey $px "fullClone" }}{{ $full = $px.fullClone }}{{ end }}
{{- $machine := dict "full" $full "numSockets" $sockets "numCores" $cores "memoryMiB" $mib "disks" (dict "bootVolume" (dict "disk" ($px.bootDevice | default ${goString(defaults.bootDevice)}) "sizeGb" $disk)) }}
{{- if eq $px.template.kind "id" }}
{{- $_ := set $machine "sourceNode" $px.template.sourceNode }}
{{- $_ := set $machine "templateId" (int $px.template.templateId) }}
{{- else }}
{{- $_ := set $machine "templateSelector" (dict "matchTags" $px.template.tags) }}
{{- end }}
{{- if $full }}
{{- with $px.storage }}{{ $_ := set $machine "storage" . }}{{ end }}
{{- with $px.format }}{{ $_ := set $machine "format" . }}{{ end }}
{{- else if $px.format }}
{{- fail (printf "proxmox.format: %q needs a full clone (proxmox.fullClone: true); capmox rejects it for linked clones" $px.format) }}
{{- end }}
{{- with $px.pool }}{{ $_ := set $machine "pool" . }}{{ end }}
{{- $nic := dict "bridge" $px.bridge "model" "virtio" }}
{{- if hasKey $px "vlan" }}{{ $_ := set $nic "vlan" (int $px.vlan) }}{{ end }}
{{- $_ := set $machine "network" (dict "default" $nic) }}
{{- /* one tag the template lacks, or capmox may skip the VM's boot (capmox bug #848) */}}
{{- $_ := set $machine "tags" (append ($g.tags | default list) ${printfOf(machineTag, cluster, group)} | uniq | sortAlpha) }}
{{- with $g.allowedNodes }}{{ $_ := set $machine "allowedNodes" . }}{{ end }}
{{- if and (hasKey $g "guestAgentChecks") (not $g.guestAgentChecks) }}{{ $_ := set $machine "checks" (dict "skipCloudInitStatus" true "skipQemuGuestAgent" true) }}{{ end }}
{{- $machineName := printf "%s-%s" $name (include "kp.hash" $machine) }}
{{- /* the constructs hash their typed props, where the template id is templateId; the API field is templateID */}}
{{- if hasKey $machine "templateId" }}{{ $_ := set $machine "templateID" $machine.templateId }}{{ $_ := unset $machine "templateId" }}{{ end }}`;
}

export function nodeGroupsYaml(ctx: TemplateContext): string {
  const { api } = ctx;
  return `${header}
{{- $cluster := include "kp.cluster" . }}
{{- $ns := .Release.Namespace }}
{{- $px := .Values.proxmox }}
{{- $groups := dict "md0" (dict) }}
{{- if hasKey .Values "nodeGroups" }}{{ $groups = .Values.nodeGroups | default dict }}{{ end }}
{{- range $group, $g := $groups }}
{{- $g = $g | default dict }}
{{- $at := printf "nodeGroups.%s" $group }}
{{- $name := ${printfOf(deploymentName, "$cluster", "$group")} }}
{{- if gt (len $name) 63 }}{{ fail (printf "%s: the MachineDeployment name %q is longer than 63 characters (it becomes a label value); shorten the group or application name" $at $name) }}{{ end }}
${groupSettings()}
${groupLabels()}
${bootstrapSpec()}
${machineSpec("$cluster", "$group")}
---
apiVersion: ${api.capiBootstrap}
kind: KubeadmConfigTemplate
metadata:
  name: {{ $bootstrapName | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  template:
    spec:
      {{- toYaml $bootstrap | nindent 6 }}
---
apiVersion: ${api.capmox}
kind: ProxmoxMachineTemplate
metadata:
  name: {{ $machineName | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  template:
    spec:
      {{- toYaml $machine | nindent 6 }}
---
apiVersion: ${api.capiCore}
kind: MachineDeployment
metadata:
  name: {{ $name | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
  annotations:
    ${autoscalerMinAnnotation}: {{ $min | quote }}
    ${autoscalerMaxAnnotation}: {{ $max | quote }}
    ${capacityCpuAnnotation}: {{ $cpu | quote }}
    ${capacityMemoryAnnotation}: {{ printf "%dMi" $mib | quote }}
spec:
  clusterName: {{ $cluster | quote }}
  replicas: {{ $replicas }}
  selector:
    matchLabels:
      ${clusterNameLabel}: {{ $cluster | quote }}
      ${deploymentNameLabel}: {{ $name | quote }}
  template:
    metadata:
      labels:
        {{- toYaml (merge (dict ${goString(clusterNameLabel)} $cluster ${goString(deploymentNameLabel)} $name) $machineLabels) | nindent 8 }}
    spec:
      clusterName: {{ $cluster | quote }}
      version: {{ $.Values.version | quote }}
      bootstrap:
        configRef:
          apiVersion: ${api.capiBootstrap}
          kind: KubeadmConfigTemplate
          name: {{ $bootstrapName | quote }}
          namespace: {{ $ns | quote }}
      infrastructureRef:
        apiVersion: ${api.capmox}
        kind: ProxmoxMachineTemplate
        name: {{ $machineName | quote }}
        namespace: {{ $ns | quote }}
---
apiVersion: ${api.capiCore}
kind: MachineHealthCheck
metadata:
  name: {{ $name | quote }}
  namespace: {{ $ns | quote }}
  labels:
    ${clusterNameLabel}: {{ $cluster | quote }}
spec:
  clusterName: {{ $cluster | quote }}
  selector:
    matchLabels:
      ${clusterNameLabel}: {{ $cluster | quote }}
      ${deploymentNameLabel}: {{ $name | quote }}
  unhealthyConditions:
    - type: Ready
      status: Unknown
      timeout: 5m
    - type: Ready
      status: "False"
      timeout: 5m
  {{- /* 40%, but at least one Machine of the smallest group: CAPI rounds the share down */}}
  {{- $unhealthy := 100 }}{{ if gt $min 1 }}{{ $unhealthy = max 40 (int (ceil (divf 100 $min))) }}{{ end }}
  maxUnhealthy: {{ $unhealthy }}%
  nodeStartupTimeout: 20m
{{- end }}
`;
}
