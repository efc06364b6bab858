{{/*
Talos workers, a per-node-group choice (`bootstrap: talos`; kubeadm stays the default):
the group's Machines boot a Proxmox template made from Talos's nocloud image and are
configured by the Talos bootstrap provider (CABPT) from a TalosConfigTemplate, as CozyStack
v1.6 boots its workers. Talos has neither cloud-init's status nor (without an extension)
the QEMU guest agent, so capmox skips both checks and writes the provider ID into the
cloud-init metadata itself. Proven here by helm render and strict validation against
CABPT's and capmox's CRDs; CABPT is not served as a Go module, so no Talos group runs
through the controllers in this project's tests.
*/}}

{{/* kp.isTalos: "true" when the group (dict "group") boots Talos. */}}
{{- define "kp.isTalos" -}}
{{- eq (toString (.group.bootstrap | default "kubeadm")) "talos" -}}
{{- end -}}

{{/* kp.talosVersion: CABPT's talosVersion (vMAJOR.MINOR) of talos.version; v1.6.2's default Talos is v1.13. */}}
{{- define "kp.talosVersion" -}}
{{- $v := (.Values.talos | default dict).version | default "v1.13.6" -}}
{{- regexFind "^v[0-9]+\\.[0-9]+" $v -}}
{{- end -}}

{{/*
kp.talosSpec: the TalosConfigTemplate's spec.template.spec as JSON, for (dict "root" "args"
"name"): a worker config whose kubelet takes the same flags as a kubeadm group's, less the
provider ID (capmox injects it into the metadata) and kubeadm's own ones.
*/}}
{{- define "kp.talosSpec" -}}
{{- $args := omit .args "provider-id" -}}
{{- $patch := dict "machine" (dict "kubelet" (dict "extraArgs" $args)) -}}
{{- toJson (dict "generateType" "worker" "talosVersion" (include "kp.talosVersion" .root) "hostname" (dict "source" "MachineName") "strategicPatches" (list (toYaml $patch))) -}}
{{- end -}}

{{/*
kp.talosMachine: turns a group's ProxmoxMachineTemplate spec (dict "machine", changed in
place; "group", "at", "platform" = .Values.talos) into a Talos one: the group's template or
the platform's talos.template (a Talos image), no guest-agent or cloud-init checks, the
provider ID in the metadata.
*/}}
{{- define "kp.talosMachine" -}}
{{- $m := .machine -}}
{{- $t := .group.template | default .platform.template -}}
{{- if not $t -}}{{- fail (printf "%s.template: a Talos node group needs a Proxmox template made from Talos's nocloud image: set it here or as the platform's talos.template (proxmox.template is the kubeadm groups' OS)" .at) -}}{{- end -}}
{{- range $k := list "sourceNode" "templateId" "templateSelector" -}}{{- $_ := unset $m $k -}}{{- end -}}
{{- if eq $t.kind "id" -}}
{{- $_ := set $m "sourceNode" $t.sourceNode -}}
{{- $_ := set $m "templateId" (int $t.templateId) -}}
{{- else -}}
{{- $_ := set $m "templateSelector" (dict "matchTags" $t.tags) -}}
{{- end -}}
{{- $_ := set $m "checks" (dict "skipCloudInitStatus" true "skipQemuGuestAgent" true) -}}
{{- $_ := set $m "metadataSettings" (dict "providerIDInjection" true) -}}
{{- end -}}
