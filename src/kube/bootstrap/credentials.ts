/**
 * The Secrets that carry the Proxmox API token into the management cluster, under the
 * names the generated manifests and overlay charts point at:
 * - per tenant cluster, capmox's `ProxmoxCluster.credentialsRef` (src/capi): keys url,
 *   token, secret, insecure (and root_ca with a private CA);
 * - the CAPI operator's capmox provider `configSecret` (src/cozystack): PROXMOX_URL,
 *   PROXMOX_TOKEN, PROXMOX_SECRET, PROXMOX_INSECURE, which the operator substitutes into
 *   capmox's components (and so into `capmox-manager-credentials` url/token/secret);
 * - the Proxmox CSI plugin's and CCM's credentials (src/cozystack): token_id, token_secret,
 *   mounted as the files their `config.clusters` entry names; with a private CA also the
 *   `proxmox-ca` ConfigMap (key ca.crt) the charts mount.
 * A Secret is created only when its consumer is installed (tenant listed, release enabled);
 * its namespace is the one the bundle gives that release.
 */
import { credentialsSecretName } from "../../capi/index.js";
import { tenantToken, type PlatformConfig } from "../../config/index.js";
import { capmoxConfigSecret, ccmCredentialsSecret, csiCredentialsSecret, proxmoxCaConfigMap } from "../../cozystack/index.js";
import type { KubeObject } from "../object.js";

/** Bundle releases that consume a credentials Secret, and the Secret's name. */
export const releaseCredentials: Readonly<Record<string, { readonly secret: string; readonly form: "capmox-variables" | "token-files" }>> = {
  "capi-providers-infraprovider-proxmox": { secret: capmoxConfigSecret, form: "capmox-variables" },
  "proxmox-csi": { secret: csiCredentialsSecret, form: "token-files" },
  "proxmox-ccm": { secret: ccmCredentialsSecret, form: "token-files" },
};

/** What the Secrets are made of. The token secret is only ever held here, never logged. */
export interface ProxmoxCredentials {
  readonly config: PlatformConfig;
  /** The API token secret (UUID), read by the CLI from the source the config names. */
  readonly tokenSecret: string;
  /**
   * The secrets of the tenants' own tokens (`tenants[].proxmox.tokenId`), by tenant name, read
   * from the sources the config names. @default {} (every tenant uses the shared token)
   */
  readonly tenantTokenSecrets?: Readonly<Record<string, string>>;
  /** PEM CA that signed the Proxmox certificate, when the config names `proxmox.tls.caFile`. */
  readonly caPem?: string;
}

/** An installed release: its name and namespace (from the rendered bundle). */
export interface InstalledRelease {
  readonly name: string;
  readonly namespace: string;
}

const managedBy = { "app.kubernetes.io/managed-by": "cozy-proxmox-bootstrap" } as const;

/** `https://pve:8006` — what capmox wants (it appends /api2/json itself). */
export function proxmoxBaseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api2\/json$/, "");
}

function secret(name: string, namespace: string, data: Record<string, string>, labels: Record<string, string> = {}): KubeObject {
  // `data` (base64), not `stringData`: a repeated apply of the same data is then a no-op.
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, Buffer.from(data[k] ?? "", "utf8").toString("base64")]),
  );
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace, labels: { ...managedBy, ...labels } }, type: "Opaque", data: encoded };
}

const proxmoxCredentialsLabel = { "platform.ionos.com/secret-type": "proxmox-credentials" };

/** Every token secret the credentials hold: what a log must never show. */
export function allTokenSecrets(c: Pick<ProxmoxCredentials, "tokenSecret" | "tenantTokenSecrets">): string[] {
  return [c.tokenSecret, ...Object.values(c.tenantTokenSecrets ?? {})];
}

/**
 * Per tenant cluster: capmox's credentialsRef Secret, with the tenant's own token when it has
 * one (its CCM and CSI plugin get the same through Flux), else the shared token.
 */
export function tenantCredentialSecrets(c: ProxmoxCredentials): KubeObject[] {
  const p = c.config.proxmox;
  return c.config.tenants.map((tenant) => {
    const token = tenantToken(c.config, tenant);
    const own = token.shared ? c.tokenSecret : c.tenantTokenSecrets?.[tenant.name];
    if (own === undefined) throw new Error(`tenants.${tenant.name}.proxmox.tokenId: ${token.tokenId}: its secret was not given (tenants[].proxmox.secret)`);
    return secret(
      credentialsSecretName(tenant.name),
      tenant.namespace,
      {
        url: proxmoxBaseUrl(p.url),
        token: token.tokenId,
        secret: own,
        // capmox reads an absent `insecure` as insecure (its pre-v0.7 default): always say it.
        insecure: String(p.tls.insecure),
        ...(c.caPem ? { root_ca: c.caPem } : {}),
      },
      proxmoxCredentialsLabel,
    );
  });
}

/** The Secrets (and CA ConfigMaps) of the installed releases that need Proxmox credentials. */
export function releaseCredentialObjects(c: ProxmoxCredentials, installed: readonly InstalledRelease[]): KubeObject[] {
  const p = c.config.proxmox;
  const out: KubeObject[] = [];
  for (const release of installed) {
    const spec = releaseCredentials[release.name];
    if (!spec) continue;
    if (spec.form === "capmox-variables") {
      out.push(
        secret(
          spec.secret,
          release.namespace,
          {
            PROXMOX_URL: proxmoxBaseUrl(p.url),
            PROXMOX_TOKEN: p.tokenId,
            PROXMOX_SECRET: c.tokenSecret,
            PROXMOX_INSECURE: String(p.tls.insecure),
          },
          proxmoxCredentialsLabel,
        ),
      );
      continue;
    }
    out.push(secret(spec.secret, release.namespace, { token_id: p.tokenId, token_secret: c.tokenSecret }));
    if (c.caPem && !p.tls.insecure) {
      out.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: proxmoxCaConfigMap, namespace: release.namespace, labels: { ...managedBy } },
        data: { "ca.crt": c.caPem },
      });
    }
  }
  return out;
}

/** Everything credential-related bootstrap creates: tenants' Secrets, then the releases'. */
export function credentialObjects(c: ProxmoxCredentials, installed: readonly InstalledRelease[]): KubeObject[] {
  return [...tenantCredentialSecrets(c), ...releaseCredentialObjects(c, installed)];
}
