/**
 * The Secrets that carry the Proxmox API token into the management cluster: one per tenant
 * cluster for capmox (the `ProxmoxCluster.credentialsRef` that src/capi emits), one for the
 * CAPI operator's capmox provider (`configSecret`), one for the Proxmox CSI plugin and one
 * for the Proxmox CCM. Names, namespaces and keys are data here, in one place, because the
 * overlay charts (src/cozystack) must point at exactly these (`configSecret`,
 * `existingConfigSecret`).
 */
import { stringify } from "yaml";
import { credentialsSecretName } from "../../capi/index.js";
import type { PlatformConfig } from "../../config/types.js";
import type { KubeObject } from "../object.js";

/** Where one credentials Secret goes and which bundle release consumes it. */
export interface CredentialSecretSpec {
  /** The bundle release that uses it; the Secret is created only when that release is installed. */
  readonly release: string;
  readonly name: string;
  readonly namespace: string;
}

/**
 * capmox: the CAPI operator's `InfrastructureProvider proxmox` reads `spec.configSecret`
 * as clusterctl variables (PROXMOX_URL/TOKEN/SECRET/INSECURE) and renders capmox's own
 * `capmox-manager-credentials` (keys url/token/secret) from them.
 */
export const capmoxCredentials: CredentialSecretSpec = {
  release: "capi-providers-infraprovider-proxmox",
  name: "capmox-config",
  namespace: "cozy-cluster-api",
};

/** proxmox-csi-plugin: chart value `existingConfigSecret`, key `config.yaml`. */
export const csiCredentials: CredentialSecretSpec = {
  release: "proxmox-csi",
  name: "proxmox-csi-config",
  namespace: "cozy-proxmox-csi",
};

/** proxmox-cloud-controller-manager: chart value `existingConfigSecret`, key `config.yaml`. */
export const ccmCredentials: CredentialSecretSpec = {
  release: "proxmox-ccm",
  name: "proxmox-ccm-config",
  namespace: "cozy-proxmox-ccm",
};

export const credentialSecretSpecs: readonly CredentialSecretSpec[] = [capmoxCredentials, csiCredentials, ccmCredentials];

/** What the Secrets are made of. The token secret is only ever held here, never logged. */
export interface ProxmoxCredentials {
  readonly config: PlatformConfig;
  /** The API token secret (UUID), read by the CLI from the source the config names. */
  readonly tokenSecret: string;
  /** PEM CA that signed the Proxmox certificate, when the config names `proxmox.tls.caFile`. */
  readonly caPem?: string;
}

const managedBy = { "app.kubernetes.io/managed-by": "cozy-proxmox-bootstrap" } as const;

/** `https://pve:8006` — what capmox wants (it appends /api2/json itself). */
export function proxmoxBaseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api2\/json$/, "");
}

function secret(spec: CredentialSecretSpec, data: Record<string, string>, labels: Record<string, string> = {}): KubeObject {
  // `data` (base64), not `stringData`: a repeated apply of the same data is then a no-op.
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, Buffer.from(data[k] ?? "", "utf8").toString("base64")]),
  );
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: spec.name, namespace: spec.namespace, labels: { ...managedBy, ...labels } },
    type: "Opaque",
    data: encoded,
  };
}

/** The proxmox-csi-plugin / CCM `config.yaml` (one cluster entry; the URL must end in /api2/json). */
function csiCcmConfig(c: ProxmoxCredentials): string {
  const p = c.config.proxmox;
  return stringify({
    features: { provider: "capmox" },
    clusters: [
      {
        url: `${proxmoxBaseUrl(p.url)}/api2/json`,
        insecure: p.tls.insecure,
        token_id: p.tokenId,
        token_secret: c.tokenSecret,
        region: p.region,
      },
    ],
  });
}

/** Per tenant cluster: capmox's credentialsRef Secret (keys url, token, secret, insecure, root_ca). */
export function tenantCredentialSecrets(c: ProxmoxCredentials): KubeObject[] {
  const p = c.config.proxmox;
  return c.config.tenants.map((tenant) =>
    secret(
      { release: "", name: credentialsSecretName(tenant.name), namespace: tenant.namespace },
      {
        url: proxmoxBaseUrl(p.url),
        token: p.tokenId,
        secret: c.tokenSecret,
        // capmox reads an absent `insecure` as insecure (its pre-v0.7 default): always say it.
        insecure: String(p.tls.insecure),
        ...(c.caPem ? { root_ca: c.caPem } : {}),
      },
      { "platform.ionos.com/secret-type": "proxmox-credentials" },
    ),
  );
}

/** The Secret objects: the tenants' credentialsRef Secrets, then those of installed releases. */
export function credentialSecrets(c: ProxmoxCredentials, installedReleases: ReadonlySet<string>): KubeObject[] {
  const p = c.config.proxmox;
  const out: KubeObject[] = tenantCredentialSecrets(c);
  if (installedReleases.has(capmoxCredentials.release)) {
    out.push(
      secret(capmoxCredentials, {
        PROXMOX_URL: proxmoxBaseUrl(p.url),
        PROXMOX_TOKEN: p.tokenId,
        PROXMOX_SECRET: c.tokenSecret,
        PROXMOX_INSECURE: String(p.tls.insecure),
      }),
    );
  }
  for (const spec of [csiCredentials, ccmCredentials]) {
    if (installedReleases.has(spec.release)) out.push(secret(spec, { "config.yaml": csiCcmConfig(c) }));
  }
  return out;
}
