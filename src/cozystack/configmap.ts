/**
 * The `cozystack` ConfigMap (namespace `cozy-system`) that CozyStack's installer and
 * platform chart read: which bundle, hosts, CIDRs, enable/disable lists and per-release
 * value overrides. Built from the platform config; it holds no secrets.
 */
import { stringify } from "yaml";
import type { PlatformConfig } from "../config/index.js";

/**
 * YAML the platform chart's `fromYaml` (Go, YAML 1.1) reads back as written: YAML 1.1 output
 * quotes strings such as `yes` or `on` that 1.1 would read as booleans.
 */
function writeYaml(value: unknown): string {
  return stringify(value ?? null, { version: "1.1", sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, "");
}

/** Name of the bundle this project generates. */
export const bundleName = "paas-proxmox";

/** The ConfigMap's `data`, keys sorted so the output is stable. */
export function cozystackConfigMapData(config: PlatformConfig): Record<string, string> {
  const c = config.cozystack;
  const data: Record<string, string> = {
    "api-server-endpoint": c.apiServerEndpoint,
    "bundle-name": bundleName,
    "ipv4-join-cidr": c.joinCidr,
    "ipv4-pod-cidr": c.podCidr,
    "ipv4-pod-gateway": c.podGateway,
    "ipv4-svc-cidr": c.serviceCidr,
    "root-host": c.rootHost,
  };
  if (c.bundleEnable.length > 0) data["bundle-enable"] = c.bundleEnable.join(",");
  if (c.bundleDisable.length > 0) data["bundle-disable"] = c.bundleDisable.join(",");
  for (const name of Object.keys(c.values).sort()) {
    data[`values-${name}`] = writeYaml(c.values[name]);
  }
  return Object.fromEntries(Object.keys(data).sort().map((k) => [k, data[k]!]));
}

/** The ConfigMap as a manifest, for `kubectl apply -f` before the installer runs. */
export function cozystackConfigMapYaml(config: PlatformConfig): string {
  return `${writeYaml({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cozystack", namespace: "cozy-system" },
    data: cozystackConfigMapData(config),
  })}\n`;
}
