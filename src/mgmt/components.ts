/**
 * What the management environment installs into its API server before the controllers
 * start: the CRDs and webhook configurations of exactly the controller versions that run.
 *
 * - CAPI core and kubeadm bootstrap v1.10.1, and the Kamaji provider's CRDs: from the
 *   components files CozyStack v0.37.10 ships (`shared/reference/cozystack-v0.37.10/release`),
 *   contract labels included. Their webhooks point at a Service behind cert-manager; here
 *   they point by URL at the controller process on 127.0.0.1, with the environment's CA, as
 *   CAPI's own envtest registers them.
 * - capmox v0.7.0 and the IPAM provider v1.0.3: the CRD bases of the very module versions
 *   the binaries are built from (read from the Go module cache that built them), with the
 *   labels their kustomizations add (capmox: the contract label `cluster.x-k8s.io/v1beta1:
 *   v1alpha1`). IPAM runs without webhooks, so its CRDs serve v1alpha2 without conversion.
 */
import { referencePath } from "../paths.js";
import type { KubeObject } from "../kube/index.js";
import { pinnedVersion } from "../kube/env/index.js";
import { capmoxSpec, ipamSpec } from "./binaries.js";
import { moduleCrds, yamlObjects } from "./module-crds.js";

/** One of the CozyStack v0.37.10 provider components files. */
export type ReleaseComponents = "core" | "bootstrap" | "control-plane";

const componentsFiles: Record<ReleaseComponents, string> = {
  core: "capi-providers-core/files/core-components.yaml",
  bootstrap: "capi-providers-bootstrap/files/bootstrap-components.yaml",
  "control-plane": "capi-providers-cpprovider/files/control-plane-components.yaml",
};

/** The release-relative path of a components file (also what fetch-reference must bring). */
export function componentsPath(which: ReleaseComponents): string {
  return referencePath("cozystack-v0.37.10", "release", "packages", "system", componentsFiles[which]);
}

const releaseObjects = new Map<ReleaseComponents, KubeObject[]>();

/** Every object of a components file (parsed once per process: they are megabytes). */
export function releaseComponents(which: ReleaseComponents): KubeObject[] {
  let objects = releaseObjects.get(which);
  if (!objects) {
    objects = yamlObjects(componentsPath(which));
    releaseObjects.set(which, objects);
  }
  return objects;
}

/** Where each controller's webhook server listens, and the CA that signed its certificate. */
export interface WebhookEndpoints {
  readonly corePort: number;
  readonly kubeadmPort: number;
  /** PEM of the CA the API server trusts for the webhooks. */
  readonly caPem: string;
}

type Json = Record<string, unknown>;

/** A Service client config becomes a URL on loopback with the environment's CA. */
function loopbackClientConfig(clientConfig: Json, port: number, caPem: string): Json {
  const service = clientConfig["service"] as { path?: string } | undefined;
  return { url: `https://127.0.0.1:${port}${service?.path ?? "/"}`, caBundle: Buffer.from(caPem).toString("base64") };
}

function withoutCertManager(metadata: KubeObject["metadata"]): KubeObject["metadata"] {
  const annotations = Object.fromEntries(Object.entries(metadata.annotations ?? {}).filter(([k]) => !k.startsWith("cert-manager.io/")));
  return { name: metadata.name, ...(metadata.labels ? { labels: metadata.labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) };
}

function rewriteCrd(crd: KubeObject, port: number | undefined, caPem: string): KubeObject {
  const spec = crd["spec"] as Json;
  const conversion = spec["conversion"] as { strategy?: string; webhook?: { clientConfig: Json; conversionReviewVersions: string[] } } | undefined;
  let newConversion: Json | undefined = conversion;
  if (conversion?.strategy === "Webhook" && conversion.webhook) {
    newConversion =
      port === undefined
        ? { strategy: "None" }
        : { strategy: "Webhook", webhook: { ...conversion.webhook, clientConfig: loopbackClientConfig(conversion.webhook.clientConfig, port, caPem) } };
  }
  return { apiVersion: crd.apiVersion, kind: crd.kind, metadata: withoutCertManager(crd.metadata), spec: { ...spec, ...(newConversion ? { conversion: newConversion } : {}) } };
}

function rewriteWebhookConfiguration(config: KubeObject, port: number, caPem: string): KubeObject {
  const webhooks = (config["webhooks"] as Json[]).map((w) => ({ ...w, clientConfig: loopbackClientConfig(w["clientConfig"] as Json, port, caPem) }));
  return { apiVersion: config.apiVersion, kind: config.kind, metadata: withoutCertManager(config.metadata), webhooks };
}

const isCrd = (o: KubeObject): boolean => o.kind === "CustomResourceDefinition";
const isWebhookConfiguration = (o: KubeObject): boolean => o.kind === "MutatingWebhookConfiguration" || o.kind === "ValidatingWebhookConfiguration";

/** The objects of one components file the environment needs, pointed at loopback. */
function fromRelease(which: ReleaseComponents, port: number | undefined, caPem: string): KubeObject[] {
  const objects = releaseComponents(which);
  return [
    ...objects.filter(isCrd).map((crd) => rewriteCrd(crd, port, caPem)),
    ...(port === undefined ? [] : objects.filter(isWebhookConfiguration).map((c) => rewriteWebhookConfiguration(c, port, caPem))),
  ];
}

function labelled(crd: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...crd, metadata: { ...crd.metadata, labels: { ...(crd.metadata.labels ?? {}), ...labels } } };
}

/** capmox's CRDs with the contract label its kustomization adds. */
export function capmoxCrds(): KubeObject[] {
  return moduleCrds(capmoxSpec.module, pinnedVersion(capmoxSpec)).map((crd) => labelled(crd, { "cluster.x-k8s.io/v1beta1": "v1alpha1" }));
}

/** The IPAM provider's CRDs, served without its (disabled) conversion webhook. */
export function ipamCrds(): KubeObject[] {
  return moduleCrds(ipamSpec.module, pinnedVersion(ipamSpec)).map((crd) =>
    labelled(rewriteCrd(crd, undefined, ""), { "clusterctl.cluster.x-k8s.io/move-hierarchy": "" }),
  );
}

/** Everything to install, CRDs first (the webhook configurations refer to their kinds). */
export function managementComponents(endpoints: WebhookEndpoints): KubeObject[] {
  const all = [
    ...fromRelease("core", endpoints.corePort, endpoints.caPem),
    ...fromRelease("bootstrap", endpoints.kubeadmPort, endpoints.caPem),
    // The Kamaji provider cannot run here (its stand-in has no webhooks): its CRDs only.
    ...fromRelease("control-plane", undefined, endpoints.caPem),
    ...capmoxCrds(),
    ...ipamCrds(),
  ];
  return [...all.filter(isCrd), ...all.filter((o) => !isCrd(o))];
}

/** The args of a provider's Deployment in its components file, `${VAR:=default}` resolved to the default. */
export function releaseManagerArgs(which: ReleaseComponents): string[] {
  const deployment = releaseComponents(which).find((o) => o.kind === "Deployment");
  const containers = (deployment?.["spec"] as { template?: { spec?: { containers?: Array<{ args?: string[] }> } } } | undefined)?.template?.spec
    ?.containers;
  const args = containers?.[0]?.args;
  if (!args) throw new Error(`${componentsPath(which)}: no Deployment with container args`);
  return args.map((arg) => arg.replace(/\$\{[A-Z_]+:=([^}]*)\}/g, "$1"));
}
