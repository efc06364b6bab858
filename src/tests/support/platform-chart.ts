/**
 * CozyStack v0.37.10's own platform chart (`packages/core/platform`, from the reference
 * release files) rendered by the real helm against the real kube-apiserver a test file
 * starts: `helm template --dry-run=server`, so every `lookup` of the chart and of the bundle
 * reads the cluster (the `cozystack` ConfigMap this helper writes first, Nodes,
 * HelmReleases), and no upstream file is changed. The bundle under test goes into the
 * chart's `bundles/` folder of a temporary copy, as the overlay puts it into a checkout.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleName } from "../../cozystack/index.js";
import type { KubeObject } from "../../kube/index.js";
import { applyCrds, type KubeEnv } from "../../kube/env/index.js";
import { referencePath } from "../../paths.js";
import { helmDryRun } from "./helm-dry-run.js";

/** The release files of CozyStack v0.37.10 (../shared/reference, or .cache/shared for a clone without it). */
export const releaseDir = (...parts: string[]): string => referencePath("cozystack-v0.37.10", "release", ...parts);

/** The field manager this helper writes the `cozystack` ConfigMap with. */
const fieldManager = "platform-chart-test";

/** Writes `cozy-system/cozystack` with exactly this data (keys not given are removed). */
export async function setCozystackConfigMap(env: KubeEnv, data: Readonly<Record<string, string>>): Promise<void> {
  await env.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cozy-system" } }, { fieldManager });
  const ref = { apiVersion: "v1", kind: "ConfigMap", name: "cozystack", namespace: "cozy-system" };
  await env.client.delete(ref);
  await env.client.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cozystack", namespace: "cozy-system" }, data: { ...data } }, { fieldManager });
}

/**
 * The objects the platform chart renders with `bundleText` as the bundle the ConfigMap
 * names, against the cluster as it is. Rejects with helm's own message when the chart or
 * the bundle fails (a `fail` guard, a template error).
 */
export async function renderPlatformChart(env: KubeEnv, bundleText: string): Promise<KubeObject[]> {
  await serveHelmRepositories(env);
  const dir = mkdtempSync(join(tmpdir(), "platform-chart-"));
  try {
    const chart = join(dir, "platform");
    cpSync(releaseDir("packages", "core", "platform"), chart, { recursive: true });
    writeFileSync(join(chart, "bundles", `${bundleName}.yaml`), bundleText);
    // CozyStack applies the rendered chart with kubectl (`cozypkg show | kubectl apply`), so
    // objects that exist without Helm's ownership marks (cozy-system) are not an error.
    return await helmDryRun(env, "platform", chart, ["--take-ownership"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The chart renders Flux HelmRepositories, and a server-side dry run maps every rendered
 * kind to an API resource. The reference data has Flux's HelmRelease CRD (the harness
 * installs it) but not source-controller's, so this serves `HelmRepository`
 * (source.toolkit.fluxcd.io/v1) with an open schema: enough for helm to map the kind and for
 * the chart's `.Capabilities`/`lookup` to see it; no test asserts on its schema.
 */
export async function serveHelmRepositories(env: KubeEnv): Promise<void> {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "helmrepositories.source.toolkit.fluxcd.io" },
    spec: {
      group: "source.toolkit.fluxcd.io",
      names: { kind: "HelmRepository", listKind: "HelmRepositoryList", plural: "helmrepositories", singular: "helmrepository" },
      scope: "Namespaced",
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
  await applyCrds(env.client, [crd], { fieldManager, timeoutMs: 30_000 });
}

/** Sets the ConfigMap, then renders. */
export async function renderPlatformWith(env: KubeEnv, bundleText: string, data: Readonly<Record<string, string>>): Promise<KubeObject[]> {
  await setCozystackConfigMap(env, data);
  return renderPlatformChart(env, bundleText);
}
