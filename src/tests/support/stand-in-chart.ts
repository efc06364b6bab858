/**
 * Small local stand-ins for the upstream proxmox-csi-plugin and
 * proxmox-cloud-controller-manager charts, used where those charts have not been vendored
 * (tests, machines without internet) and only when asked for. They take the same values the
 * wrappers set (`config`, `existingConfigSecret`, `extraVolumes`, `extraVolumeMounts`,
 * `storageClass`) and render the objects those values shape: the config Secret, the
 * controller Deployment's volumes and mounts, and the StorageClasses. Every object carries
 * the annotation `paas-proxmox/stand-in: "true"`; they are no substitute for the real charts.
 */
import { chartYaml, yamlText, type ChartFiles } from "../../cozystack/charts/files.js";
import type { ChartPin } from "../../cozystack/artifacts/pins.js";

export const standInVersion = "0.0.0-stand-in";

export interface StandInProps {
  readonly pin: ChartPin;
  /** Image of the controller container, without tag (the tag is the pin's appVersion). */
  readonly image: string;
  /** Render `storageClass` entries (CSI only). */
  readonly storageClasses: boolean;
}

const secretTemplate = `{{- if and (not .Values.existingConfigSecret) .Values.config.clusters }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
  annotations:
    paas-proxmox/stand-in: "true"
type: Opaque
data:
  config.yaml: {{ toYaml .Values.config | b64enc | quote }}
{{- end }}
`;

const deploymentTemplate = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
  annotations:
    paas-proxmox/stand-in: "true"
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      containers:
        - name: controller
          image: ${image}:{{ .Chart.AppVersion }}
          args:
            - --cloud-config=/etc/proxmox/config.yaml
          volumeMounts:
            - name: cloud-config
              mountPath: /etc/proxmox/
              readOnly: true
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: cloud-config
          secret:
            secretName: {{ .Values.existingConfigSecret | default (printf "%s-%s" .Release.Name .Chart.Name) }}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
`;

const storageClassTemplate = `{{- range .Values.storageClass }}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {{ .name | required "storageClass[].name is required" }}
  annotations:
    paas-proxmox/stand-in: "true"
provisioner: csi.proxmox.sinextra.dev
allowVolumeExpansion: true
volumeBindingMode: {{ .volumeBindingMode | default "WaitForFirstConsumer" }}
reclaimPolicy: {{ .reclaimPolicy | default "Delete" }}
parameters:
  csi.storage.k8s.io/fstype: {{ .fstype | default "ext4" }}
  storage: {{ .storage | required "storageClass[].storage is required" }}
{{- with .allowedTopologies }}
allowedTopologies:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
`;

/** The stand-in chart's files, relative to its directory (`charts/<name>/`). */
export function standInChart(p: StandInProps): ChartFiles {
  const chart = chartYaml({
    name: p.pin.name,
    description: `Local stand-in for ${p.pin.repository}/${p.pin.name} ${p.pin.version}; not the upstream chart`,
    version: standInVersion,
    appVersion: p.pin.appVersion,
  });
  const files: ChartFiles = new Map([
    ["Chart.yaml", chart],
    ["values.yaml", yamlText({ existingConfigSecret: null, config: { features: { provider: "default" }, clusters: [] }, extraVolumes: [], extraVolumeMounts: [], ...(p.storageClasses ? { storageClass: [] } : {}) })],
    ["templates/secret.yaml", secretTemplate],
    ["templates/deployment.yaml", deploymentTemplate(p.image)],
  ]);
  if (p.storageClasses) files.set("templates/storageclass.yaml", storageClassTemplate);
  return files;
}
