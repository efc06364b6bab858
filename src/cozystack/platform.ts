/**
 * What CozyStack v0.37.10's platform chart (`packages/core/platform`, chart `cozy-platform`)
 * makes of a bundle, in TypeScript, so tests can assert on the installed result without a
 * cluster. The chart renders the bundle file with `tpl` against live `lookup`s; here the
 * cluster is input data: the `cozystack` ConfigMap's data, plus optional other objects,
 * served API versions and overrides of the chart's named templates.
 *
 * Templates modelled: helmreleases.yaml (install / delete marking, values merge, dependsOn
 * namespaces), namespaces.yaml (privileged labels and its quirks), apps.yaml (tenant-root),
 * helmrepos.yaml. notes/cozystack.md §2 describes them.
 */
import {
  baseFunctions,
  deepMerge,
  Executor,
  isTruthy,
  printValue,
  readYaml,
  TemplateError,
  writeYaml,
  type TemplateFunction,
} from "./template/index.js";

/** A Kubernetes object as `lookup` returns it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [key: string]: unknown;
}

/** The cluster as the platform chart sees it, besides the `cozystack` ConfigMap. */
export interface ClusterView {
  /** Objects `lookup` can find (Nodes, ConfigMaps, HelmRepositories, existing HelmReleases). @default [] */
  readonly objects?: readonly KubeObject[];
  /**
   * API versions the cluster serves (`.Capabilities.APIVersions`). With
   * `helm.toolkit.fluxcd.io/v2`, releases that are no longer installed but exist in
   * `objects` are rendered with the marked-for-deletion label. @default []
   */
  readonly apiVersions?: readonly string[];
  /**
   * Replacements for the platform chart's named templates (`include "<name>" .`).
   * Built in: `cozystack.master-node-ips` (as upstream) and `cozystack.defaultDashboardValues`
   * (its values, without the upstream stylesheet, which changes no release).
   */
  readonly includes?: Readonly<Record<string, (root: unknown) => string>>;
}

/** One release as the bundle lists it after template rendering. */
export interface RenderedRelease {
  readonly name: string;
  readonly releaseName?: string;
  readonly chart: string;
  readonly namespace: string;
  readonly privileged?: unknown;
  readonly optional?: unknown;
  readonly dependsOn?: readonly string[] | null;
  readonly values?: Record<string, unknown> | null;
  readonly valuesFiles?: readonly string[] | null;
}

export interface HelmReleaseDependency {
  readonly name: string;
  /** Empty when the target is not in the bundle: Flux then looks in the release's own namespace. */
  readonly namespace: string | null;
}

/** `helm.toolkit.fluxcd.io/v2` HelmRelease, as the platform chart emits it. */
export interface HelmReleaseObject {
  readonly apiVersion: "helm.toolkit.fluxcd.io/v2";
  readonly kind: "HelmRelease";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly interval: string;
    readonly releaseName: string;
    readonly install: Record<string, unknown>;
    readonly upgrade: Record<string, unknown>;
    readonly chart: {
      readonly spec: {
        readonly chart: string;
        readonly reconcileStrategy?: string;
        readonly sourceRef: { readonly kind: "HelmRepository"; readonly name: string; readonly namespace: string };
        readonly version: string;
        readonly valuesFiles?: readonly string[];
      };
    };
    readonly values?: Record<string, unknown>;
    /** `null` when every dependency was disabled (the template then renders an empty key). */
    readonly dependsOn?: readonly HelmReleaseDependency[] | null;
  };
}

export interface NamespaceObject {
  readonly apiVersion: "v1";
  readonly kind: "Namespace";
  readonly metadata: {
    readonly name: string;
    readonly annotations: Readonly<Record<string, string>>;
    /** Absent on tenant-root, which apps.yaml renders without labels. */
    readonly labels?: Readonly<Record<string, string>>;
  };
}

export interface HelmRepositoryObject {
  readonly apiVersion: "source.toolkit.fluxcd.io/v1";
  readonly kind: "HelmRepository";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: { readonly interval: string; readonly url: string };
}

/** Everything the platform chart renders for one bundle and one ConfigMap. */
export interface InstalledObjects {
  /** The bundle's releases after template rendering, in file order, installed or not. */
  readonly releases: readonly RenderedRelease[];
  /** Names of the releases that get a HelmRelease (not marked for deletion). */
  readonly installed: readonly string[];
  /** HelmReleases in template order: the bundle's, then `tenant-root/tenant-root`. */
  readonly helmReleases: readonly HelmReleaseObject[];
  /** Namespaces sorted by name, `tenant-root` last (it comes from apps.yaml). */
  readonly namespaces: readonly NamespaceObject[];
  readonly helmRepositories: readonly HelmRepositoryObject[];
}

export class PlatformError extends Error {
  override readonly name = "PlatformError";
}

const HR_API = "helm.toolkit.fluxcd.io/v2";
const keycloakReleases = ["keycloak", "keycloak-operator", "keycloak-configure"];

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === "object" && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The ConfigMap object `lookup "v1" "ConfigMap" "cozy-system" "cozystack"` returns. */
function cozystackConfigMap(data: Readonly<Record<string, string>>): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cozystack", namespace: "cozy-system" }, data: { ...data } };
}

function lookupIn(objects: readonly KubeObject[]): TemplateFunction {
  return (apiVersion, kind, namespace, name) => {
    const matches = objects.filter(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        (!namespace || (o.metadata.namespace ?? "") === namespace) &&
        (!name || o.metadata.name === name),
    );
    // A named lookup returns the object or an empty map; an unnamed one returns a list.
    if (name) return matches[0] ? clone(matches[0]) : {};
    return { apiVersion: "v1", kind: "List", items: clone(matches) };
  };
}

function masterNodeIps(lookup: TemplateFunction): string {
  const nodes = lookup("v1", "Node", "", "") as { items: Dict[] };
  const ips: string[] = [];
  for (const node of nodes.items) {
    const labels = ((node.metadata as Dict | undefined)?.labels ?? {}) as Dict;
    if (labels["node-role.kubernetes.io/control-plane"] !== "") continue;
    const addresses = (((node.status as Dict | undefined)?.addresses ?? []) as Dict[]).find((a) => a.type === "InternalIP");
    if (addresses) ips.push(printValue(addresses.address));
  }
  return ips.join(",");
}

function defaultDashboardValues(lookup: TemplateFunction, apiVersions: readonly string[]): string {
  const kubeapps: Dict = { frontend: { resourcesPreset: "none" }, dashboard: { resourcesPreset: "none" } };
  if (apiVersions.includes("source.toolkit.fluxcd.io/v1")) {
    const repos = (lookup("source.toolkit.fluxcd.io/v1", "HelmRepository", "cozy-public", "") as { items: Dict[] }).items;
    if (repos.length > 0) {
      const annotations: Dict = {};
      for (const repo of repos) {
        const revision = ((repo.status as Dict | undefined)?.artifact as Dict | undefined)?.revision;
        if (revision) annotations[`repository.cozystack.io/${printValue((repo.metadata as Dict).name)}`] = printValue(revision);
      }
      kubeapps.redis = { master: { podAnnotations: annotations } };
    }
  }
  const branding = lookup("v1", "ConfigMap", "cozy-system", "cozystack-branding") as Dict;
  const data = (branding.data ?? {}) as Dict;
  if (data.branding) (kubeapps.dashboard as Dict).customLocale = { Kubeapps: data.branding };
  if (data.logo) (kubeapps.dashboard as Dict).customStyle = `.kubeapps-logo {\n  background-image: ${printValue(data.logo)}\n}\n`;
  return writeYaml({ kubeapps });
}

/** The function map for rendering a bundle against a cluster view. */
function functionsFor(objects: readonly KubeObject[], view: ClusterView): Record<string, TemplateFunction> {
  const lookup = lookupIn(objects);
  const apiVersions = view.apiVersions ?? [];
  const includes: Record<string, (root: unknown) => string> = {
    "cozystack.master-node-ips": () => masterNodeIps(lookup),
    "cozystack.defaultDashboardValues": () => defaultDashboardValues(lookup, apiVersions),
    ...view.includes,
  };
  return {
    ...baseFunctions(),
    lookup,
    include: (name, root) => {
      const fn = includes[printValue(name)];
      if (!fn) throw new TemplateError(`no template "${printValue(name)}" associated with template "platform"`);
      return fn(root);
    },
  };
}

/** The root context (`.`) the platform chart renders with, as far as bundles use it. */
function rootContext(view: ClusterView): Dict {
  const apiVersions = view.apiVersions ?? [];
  return {
    Values: {},
    Release: { Name: "platform", Namespace: "cozy-system", Service: "Helm", IsInstall: true, IsUpgrade: false },
    Chart: { Name: "cozy-platform", Version: "0.0.0" },
    Capabilities: { APIVersions: { Has: (v: unknown) => apiVersions.includes(printValue(v)) } },
  };
}

/** Renders the bundle template text (the `tpl` step of the platform chart). */
export function renderBundleText(bundleText: string, configMapData: Readonly<Record<string, string>>, view: ClusterView = {}): string {
  const objects = [cozystackConfigMap(configMapData), ...(view.objects ?? [])];
  return new Executor(functionsFor(objects, view)).render(bundleText, rootContext(view));
}

/**
 * The bundle's release list after rendering. Where the platform chart's `fromYaml` would
 * silently yield no releases (invalid YAML, no `releases:` list), this throws instead.
 */
export function bundleReleases(bundleText: string, configMapData: Readonly<Record<string, string>>, view: ClusterView = {}): RenderedRelease[] {
  const text = renderBundleText(bundleText, configMapData, view);
  let doc: unknown;
  try {
    doc = readYaml(text);
  } catch (err) {
    throw new PlatformError(`the rendered bundle is not valid YAML (the platform chart would install nothing): ${(err as Error).message}`, { cause: err });
  }
  const releases = isDict(doc) ? doc.releases : undefined;
  if (!Array.isArray(releases)) {
    throw new PlatformError("the rendered bundle has no releases: list (the platform chart would install nothing)");
  }
  return releases.map((r, i) => {
    if (!isDict(r) || typeof r.name !== "string" || typeof r.chart !== "string" || typeof r.namespace !== "string") {
      throw new PlatformError(`releases[${i}]: needs string name, chart and namespace, got ${JSON.stringify(r)}`);
    }
    return r as unknown as RenderedRelease;
  });
}

const splitComponents = (v: string | undefined): string[] => (v ?? "").split(",");

/** Whether the platform chart installs a release, and whether a leftover must be marked for deletion. */
function decide(r: RenderedRelease, data: Readonly<Record<string, string>>, objects: readonly KubeObject[], view: ClusterView) {
  const disabled = splitComponents(data["bundle-disable"]);
  const enabled = splitComponents(data["bundle-enable"]);
  const oidcEnabled = (data["oidc-enabled"] || "false") === "true";
  const excluded =
    (keycloakReleases.includes(r.name) && !oidcEnabled) ||
    disabled.includes(r.name) ||
    (isTruthy(r.optional) && !enabled.includes(r.name));
  const exists =
    (view.apiVersions ?? []).includes(HR_API) &&
    objects.some((o) => o.apiVersion === HR_API && o.kind === "HelmRelease" && o.metadata.namespace === r.namespace && o.metadata.name === r.name);
  return { install: !excluded, markForDeletion: excluded && exists };
}

function helmRelease(
  r: RenderedRelease,
  data: Readonly<Record<string, string>>,
  namespaces: ReadonlyMap<string, string>,
  markForDeletion: boolean,
): HelmReleaseObject {
  const disabled = splitComponents(data["bundle-disable"]);
  // values: the bundle's, then `values-<name>` from the ConfigMap deep-merged over them.
  let values: Dict = {};
  if (isTruthy(r.values)) values = deepMerge(clone(r.values as Dict), values, false);
  const override = data[`values-${r.name}`];
  if (override) {
    let parsed: unknown;
    try {
      parsed = readYaml(override);
    } catch (err) {
      throw new PlatformError(`cozystack ConfigMap values-${r.name}: not valid YAML: ${(err as Error).message}`, { cause: err });
    }
    values = deepMerge(values, isDict(parsed) ? parsed : {}, true);
  }
  const dependsOn = isTruthy(r.dependsOn)
    ? (r.dependsOn ?? []).filter((d) => !disabled.includes(d)).map((d) => ({ name: d, namespace: namespaces.get(d) ?? null }))
    : undefined;
  return {
    apiVersion: HR_API,
    kind: "HelmRelease",
    metadata: {
      name: r.name,
      namespace: r.namespace,
      labels: {
        "cozystack.io/repository": "system",
        "cozystack.io/system-app": "true",
        ...(markForDeletion ? { "cozystack.io/marked-for-deletion": "true" } : {}),
      },
    },
    spec: {
      interval: "5m",
      releaseName: printValue(r.releaseName) || r.name,
      install: { crds: "CreateReplace", remediation: { retries: -1 } },
      upgrade: { crds: "CreateReplace", remediation: { retries: -1 } },
      chart: {
        spec: {
          chart: r.chart,
          reconcileStrategy: "Revision",
          sourceRef: { kind: "HelmRepository", name: "cozystack-system", namespace: "cozy-system" },
          version: ">= 0.0.0-0",
          ...(isTruthy(r.valuesFiles) ? { valuesFiles: [...(r.valuesFiles ?? [])] } : {}),
        },
      },
      ...(isTruthy(values) ? { values } : {}),
      ...(dependsOn ? { dependsOn: dependsOn.length > 0 ? dependsOn : null } : {}),
    },
  };
}

function namespace(name: string, privileged: boolean, annotations: Record<string, string> = {}): NamespaceObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      annotations: { "helm.sh/resource-policy": "keep", ...annotations },
      labels: { "cozystack.io/system": "true", ...(privileged ? { "pod-security.kubernetes.io/enforce": "privileged" } : {}) },
    },
  };
}

/** namespaces.yaml, quirks included: a disabled privileged release still creates and marks its namespace. */
function bundleNamespaces(releases: readonly RenderedRelease[], data: Readonly<Record<string, string>>): NamespaceObject[] {
  const disabled = splitComponents(data["bundle-disable"]);
  const enabled = splitComponents(data["bundle-enable"]);
  const privileged = new Map<string, boolean>();
  for (const r of releases) {
    if (!privileged.has(r.namespace) && !disabled.includes(r.name) && (!isTruthy(r.optional) || enabled.includes(r.name))) {
      privileged.set(r.namespace, false);
    }
    if (isTruthy(r.privileged) || privileged.get(r.namespace)) privileged.set(r.namespace, true);
  }
  privileged.set("cozy-system", true);
  privileged.set("cozy-public", false);
  return [...privileged.keys()].sort().map((ns) => namespace(ns, privileged.get(ns) === true));
}

function helmRepository(name: string, ns: string, repo: string, extraLabels: Record<string, string> = {}): HelmRepositoryObject {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "HelmRepository",
    metadata: { name, namespace: ns, labels: { ...extraLabels, "cozystack.io/repository": repo } },
    spec: { interval: "5m0s", url: `http://cozystack.cozy-system.svc/repos/${repo}` },
  };
}

/** apps.yaml: the tenant-root Namespace and HelmRelease. */
function tenantRoot(
  releases: readonly RenderedRelease[],
  data: Readonly<Record<string, string>>,
  objects: readonly KubeObject[],
  view: ClusterView,
): { ns: NamespaceObject; hr: HelmReleaseObject } {
  let host = "root-host" in data ? printValue(data["root-host"]) : "example.org";
  if ((view.apiVersions ?? []).includes(HR_API)) {
    const existing = objects.find((o) => o.apiVersion === HR_API && o.kind === "HelmRelease" && o.metadata.namespace === "tenant-root" && o.metadata.name === "tenant-root");
    const existingHost = ((existing?.spec as Dict | undefined)?.values as Dict | undefined)?.host;
    if (isTruthy(existingHost)) host = printValue(existingHost);
  }
  const annotations = Object.fromEntries(
    ["etcd", "monitoring", "ingress", "seaweedfs"].map((k) => [`namespace.cozystack.io/${k}`, "tenant-root"]),
  );
  const ns: NamespaceObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "tenant-root", annotations: { "helm.sh/resource-policy": "keep", ...annotations, "namespace.cozystack.io/host": host } },
  };
  const hr: HelmReleaseObject = {
    apiVersion: HR_API,
    kind: "HelmRelease",
    metadata: { name: "tenant-root", namespace: "tenant-root", labels: { "cozystack.io/ui": "true" } },
    spec: {
      interval: "0s",
      releaseName: "tenant-root",
      install: { remediation: { retries: -1 } },
      upgrade: { remediation: { retries: -1 } },
      chart: { spec: { chart: "tenant", version: ">= 0.0.0-0", sourceRef: { kind: "HelmRepository", name: "cozystack-apps", namespace: "cozy-public" } } },
      values: { host },
      // Upstream lists every bundle release named cilium or kubeovn, installed or not.
      dependsOn: releases.filter((r) => r.name === "cilium" || r.name === "kubeovn").map((r) => ({ name: r.name, namespace: r.namespace })),
    },
  };
  return { ns, hr };
}

/**
 * What the platform chart installs for a bundle: HelmReleases, Namespaces and
 * HelmRepositories. `configMapData` is the data of ConfigMap `cozy-system/cozystack`
 * (`bundle-name`, `root-host`, `bundle-enable`, `values-<name>`, …).
 */
export function installedObjects(
  bundleText: string,
  configMapData: Readonly<Record<string, string>>,
  view: ClusterView = {},
): InstalledObjects {
  const releases = bundleReleases(bundleText, configMapData, view);
  const objects = view.objects ?? [];
  const namespaces = new Map(releases.map((r) => [r.name, r.namespace]));
  const helmReleases: HelmReleaseObject[] = [];
  const installed: string[] = [];
  for (const r of releases) {
    const { install, markForDeletion } = decide(r, configMapData, objects, view);
    if (install) installed.push(r.name);
    if (install || markForDeletion) helmReleases.push(helmRelease(r, configMapData, namespaces, markForDeletion));
  }
  const root = tenantRoot(releases, configMapData, objects, view);
  return {
    releases,
    installed,
    helmReleases: [...helmReleases, root.hr],
    namespaces: [...bundleNamespaces(releases, configMapData), root.ns],
    helmRepositories: [
      helmRepository("cozystack-system", "cozy-system", "system"),
      helmRepository("cozystack-apps", "cozy-public", "apps", { "cozystack.io/ui": "true" }),
      helmRepository("cozystack-extra", "cozy-public", "extra"),
    ],
  };
}
