/**
 * The CRDs the product relies on, from shared/reference/crds, installed into a test API
 * server and waited for until Established.
 *
 * Where the reference folder holds one CRD in several versions (capmox v0.7.7 and v0.9.0,
 * Kamaji v0.19.0 and v0.20.0), the versions profile decides (its `crdSources`). No
 * controllers run in a test environment, so no conversion webhook either: each CRD gets
 * conversion `None` and, where the profile emits a served version of its group, that
 * version becomes the storage version. Objects are then stored and read back in the very
 * version (and schema) the generator emits, which is what the server-side proof is about.
 */
import { crdCatalog, loadCrd } from "../../crds/index.js";
import { referencePath } from "../../paths.js";
import { getProfile, type VersionsProfile } from "../../versions/index.js";
import type { KubeClient } from "../client.js";
import type { KubeObject } from "../object.js";
import { conditionIs, describeCondition, waitFor } from "../wait.js";

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  [key: string]: unknown;
}

export interface Crd extends KubeObject {
  readonly spec: { group: string; names: { kind: string }; versions: CrdVersion[]; conversion?: unknown; [key: string]: unknown };
}

/** One CRD and the reference file it came from. */
export interface CrdSource {
  readonly file: string;
  readonly crd: Crd;
}

/**
 * The CRDs for a profile: every CRD in the reference folder, one file per CRD name; when
 * several files define the same CRD, the one whose name starts with a `crdSources` prefix
 * of the profile. An ambiguity the profile does not settle is an error naming both files.
 */
export function productCrds(profileName = "cozystack-v0.37", dir = referencePath("crds")): CrdSource[] {
  const profile = getProfile(profileName);
  const prefixes = new Set(Object.values(profile.crdSources));
  const byName = new Map<string, CrdSource[]>();
  // The reference catalog (src/crds) reads and caches each file once: one CRD per file.
  for (const entry of crdCatalog(dir)) {
    const crd = loadCrd(entry) as unknown as Crd;
    byName.set(crd.metadata.name, [...(byName.get(crd.metadata.name) ?? []), { file: entry.path, crd }]);
  }
  const chosen: CrdSource[] = [];
  for (const [crdName, sources] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const picked =
      sources.length === 1
        ? sources
        : sources.filter((s) => [...prefixes].some((p) => s.file.slice(dir.length + 1).startsWith(`${p}-`)));
    const only = picked[0];
    if (picked.length !== 1 || !only) {
      throw new Error(
        `CRD ${crdName} is defined by ${sources.map((s) => s.file).join(" and ")}; ` +
          `profile ${profile.name} crdSources (${[...prefixes].join(", ")}) must select exactly one`,
      );
    }
    chosen.push(only);
  }
  return chosen;
}

/** The CRD as a controller-less API server should hold it (see the file comment). */
export function forTestServer(crd: Crd, profile: VersionsProfile): Crd {
  const emitted = new Set(Object.values(profile.api));
  const wanted = crd.spec.versions.find((v) => v.served && emitted.has(`${crd.spec.group}/${v.name}`));
  const versions = crd.spec.versions.map((v) => (wanted ? { ...v, storage: v.name === wanted.name } : v));
  // Drop what the server fills in (status, creationTimestamp) so the apply is a clean intent.
  const { status: _status, ...rest } = crd as Crd & { status?: unknown };
  const { creationTimestamp: _created, ...metadata } = crd.metadata as Crd["metadata"] & { creationTimestamp?: unknown };
  return { ...rest, metadata, spec: { ...crd.spec, versions, conversion: { strategy: "None" } } } as Crd;
}

export interface InstallCrdsOptions {
  /** @default "cozystack-v0.37" */
  readonly profile?: string;
  /** How long to wait for Established. @default 60_000 */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Applies CRDs (their `status` left out) and waits, by watching, until every one is Established. */
export async function applyCrds(client: KubeClient, crds: readonly KubeObject[], options: { readonly fieldManager: string; readonly timeoutMs?: number }): Promise<void> {
  for (const crd of crds) {
    const { status: _status, ...spec } = crd as KubeObject & { status?: unknown };
    await client.apply(spec as KubeObject, { fieldManager: options.fieldManager });
  }
  await waitFor(
    client,
    crds.map((crd) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata.name })),
    conditionIs("Established"),
    { timeoutMs: options.timeoutMs ?? 60_000, describe: (o) => describeCondition(o, "Established") },
  );
}

/** Applies the product's CRDs and waits until every one is Established. */
export async function installProductCrds(client: KubeClient, options: InstallCrdsOptions = {}): Promise<Crd[]> {
  const profile = getProfile(options.profile ?? "cozystack-v0.37");
  const crds = productCrds(profile.name).map((s) => forTestServer(s.crd, profile));
  await applyCrds(client, crds, { fieldManager: "cozy-proxmox-env", ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  options.log?.(`installed ${crds.length} CRDs (profile ${profile.name}), all Established`);
  return crds;
}
