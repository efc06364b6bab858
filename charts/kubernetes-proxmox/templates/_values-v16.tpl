{{/*
CozyStack v1.6's value names and shapes beside v0.37's, in one chart: each helper reads
both spellings, so an object written for v0.37 renders exactly as before (same template
hashes, so an upgrade replaces no Machine) and one written for v1.6 renders the same way.
*/}}

{{/* kp.version: `version` as a full release. v1.6's vMAJOR.MINOR → the patch of files/versions.yaml; a full version as it is. */}}
{{- define "kp.version" -}}
{{- $v := .Values.version -}}
{{- if regexMatch "^v[0-9]+\\.[0-9]+$" $v -}}
{{- $patches := .Files.Get "files/versions.yaml" | fromYaml -}}
{{- if not (hasKey $patches $v) -}}{{- fail (printf "version: %q: a minor without its patch must be one of %s; else give vMAJOR.MINOR.PATCH" $v (keys $patches | sortAlpha | join ", ")) -}}{{- end -}}
{{- $v = get $patches $v -}}
{{- end -}}
{{- $v -}}
{{- end -}}

{{/*
kp.diskGiB: the boot disk in GiB of a node group (dict "group" "at"): v1.6's diskSize or
v0.37's ephemeralStorage (both given: they must agree), else 20.
*/}}
{{- define "kp.diskGiB" -}}
{{- $g := .group -}}
{{- $disk := "20Gi" -}}
{{- if and (hasKey $g "diskSize") (hasKey $g "ephemeralStorage") (ne $g.diskSize $g.ephemeralStorage) -}}
{{- fail (printf "%s.diskSize: %q differs from %s.ephemeralStorage: %q: they are two names of the boot disk's size (v1.6's and v0.37's); give one" .at $g.diskSize .at $g.ephemeralStorage) -}}
{{- end -}}
{{- if hasKey $g "diskSize" -}}{{ $disk = $g.diskSize }}{{- else if hasKey $g "ephemeralStorage" -}}{{ $disk = $g.ephemeralStorage }}{{- end -}}
{{- trimSuffix "Gi" $disk | atoi -}}
{{- end -}}

{{/*
kp.kubeletArgs: v1.6's per-group `kubelet` reservations as kubelet flags (kubeadm's
kubeletExtraArgs), as JSON; {} when the group sets none, so the template's hash stays.
*/}}
{{- define "kp.kubeletArgs" -}}
{{- $k := .group.kubelet | default dict -}}
{{- $args := dict -}}
{{- range $flag, $prefix := dict "system-reserved" "systemReserved" "kube-reserved" "kubeReserved" -}}
{{- $parts := list -}}
{{- with get $k (printf "%sCpu" $prefix) }}{{ $parts = append $parts (printf "cpu=%s" .) }}{{ end -}}
{{- with get $k (printf "%sMemory" $prefix) }}{{ $parts = append $parts (printf "memory=%s" .) }}{{ end -}}
{{- if $parts }}{{ $_ := set $args $flag (join "," $parts) }}{{ end -}}
{{- end -}}
{{- with $k.evictionHardMemory }}{{ $_ := set $args "eviction-hard" (printf "memory.available<%s" .) }}{{ end -}}
{{- with $k.evictionSoftMemory -}}
{{- $_ := set $args "eviction-soft" (printf "memory.available<%s" .) -}}
{{- $_ := set $args "eviction-soft-grace-period" "memory.available=1m30s" -}}
{{- end -}}
{{- toJson $args -}}
{{- end -}}
