
{{/*
kp.cluster: the cluster's name. CozyStack installs the application <name> as the Helm release
kubernetes-<name>; the Cluster API objects carry the application's own name, as the ones
`npm run synth` writes for a tenant of the platform config do.
*/}}
{{- define "kp.cluster" -}}
{{- $name := trimPrefix "kubernetes-" .Release.Name -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "release name %q: the cluster name %q must be a DNS label (lower-case letters, digits, '-')" .Release.Name $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/*
kp.hash: the first 8 hex digits of the SHA-256 of a value's canonical JSON, as specHash in
src/capi/hash.ts computes it. Go's encoder sorts map keys and writes no spaces, like
canonicalJson; it also escapes <, > and & (and U+2028/9), which JSON.stringify does not, so
those are turned back before hashing.
*/}}
{{- define "kp.hash" -}}
{{- toJson . | replace "\\u003c" "<" | replace "\\u003e" ">" | replace "\\u0026" "&" | replace "\\u2028" "\u2028" | replace "\\u2029" "\u2029" | sha256sum | trunc 8 -}}
{{- end -}}

{{/* kp.dataStore: controlPlane.dataStore, else the namespace's CozyStack etcd, else tenant-root. */}}
{{- define "kp.dataStore" -}}
{{- $store := .Values.controlPlane.dataStore -}}
{{- if not $store -}}
{{- $ns := lookup "v1" "Namespace" "" .Release.Namespace | default dict -}}
{{- $store = dig "metadata" "annotations" "namespace.cozystack.io/etcd" "tenant-root" $ns -}}
{{- end -}}
{{- $store -}}
{{- end -}}

{{/* kp.resources: {cpu, memory} as requests and limits. */}}
{{- define "kp.resources" -}}
{{- $r := dict -}}
{{- range $k := list "cpu" "memory" -}}
{{- if hasKey $ $k -}}{{- $_ := set $r $k (get $ $k) -}}{{- end -}}
{{- end -}}
{{- toYaml (dict "requests" $r "limits" $r) -}}
{{- end -}}

{{/*
kp.helmRelease: a Flux HelmRelease that installs a CozyStack system chart into the tenant
cluster through the admin kubeconfig Kamaji writes. Arguments: root, name, chart,
targetNamespace, values, and optionally valuesFrom and dependsOn (names of sibling HelmReleases).
*/}}
{{- define "kp.helmRelease" -}}
{{- $cluster := include "kp.cluster" .root -}}
{{- $ns := .root.Release.Namespace -}}
{{- $depends := list (dict "name" .root.Release.Name "namespace" $ns) -}}
{{- range .dependsOn | default list -}}
{{- $depends = append $depends (dict "name" (printf "%s-%s" $cluster .) "namespace" $ns) -}}
{{- end }}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {{ printf "%s-%s" $cluster .name | quote }}
  namespace: {{ $ns | quote }}
  labels:
    cozystack.io/repository: system
    cozystack.io/target-cluster-name: {{ $cluster | quote }}
spec:
  interval: 5m
  releaseName: {{ .name | quote }}
  targetNamespace: {{ .targetNamespace | quote }}
  storageNamespace: {{ .targetNamespace | quote }}
  chart:
    spec:
      chart: {{ .chart | quote }}
      version: ">= 0.0.0-0"
      reconcileStrategy: Revision
      sourceRef:
        kind: HelmRepository
        name: cozystack-system
        namespace: cozy-system
  kubeConfig:
    secretRef:
      name: {{ (printf "%s-admin-kubeconfig" $cluster) | quote }}
      key: super-admin.svc
  install:
    createNamespace: true
    remediation:
      retries: -1
  upgrade:
    remediation:
      retries: -1
  dependsOn:
    {{- toYaml $depends | nindent 4 }}
  {{- with .valuesFrom }}
  valuesFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  values:
    {{- toYaml (.values | default dict) | nindent 4 }}
{{- end -}}
