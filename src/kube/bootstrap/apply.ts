/**
 * Idempotent creation and update by server-side apply, and the plan of it: for every
 * object, whether applying it would create it, change it, or leave it as it is. The plan
 * comes from the server itself (a dry-run apply compared with the live object), so the dry
 * run and the real run agree by construction, and the tests check that they do.
 */
import type { KubeClient } from "../client.js";
import { KubeApiError } from "../errors.js";
import { refOf } from "../client.js";
import type { KubeObject, ObjectRef } from "../object.js";
import { refKey } from "../object.js";
import { conditionIs, waitFor } from "../wait.js";

export type Action = "create" | "update" | "unchanged";

export interface Change {
  readonly ref: ObjectRef;
  readonly action: Action;
}

/** One object and the field manager that owns what it sets. */
export interface ApplyItem {
  readonly object: KubeObject;
  readonly fieldManager: string;
}

export interface ApplyAllOptions {
  /** How long a CRD of the same batch may take to become Established. @default 60_000 */
  readonly crdTimeoutMs?: number;
  /** Told about each object once it is applied (or planned). */
  readonly onChange?: (change: Change) => void;
}

/** The object without what the server changes on every write (for comparisons). */
function comparable(object: KubeObject): unknown {
  const { managedFields: _m, resourceVersion: _r, generation: _g, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function sameContent(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(sortKeys(comparable(a))) === JSON.stringify(sortKeys(comparable(b)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** True when the server does not (yet) serve the object's kind. */
async function kindUnknown(client: KubeClient, object: KubeObject): Promise<boolean> {
  try {
    await client.resource(object.apiVersion, object.kind);
    return false;
  } catch (error) {
    if (error instanceof KubeApiError) throw error;
    return true;
  }
}

/**
 * What applying the items in order would do, without changing anything. Where the server
 * cannot tell yet, the plan follows from the order: an object in a namespace the plan
 * creates, or of a kind a CRD of the batch defines, is a `create`; a second object with
 * the same name as one the plan creates is an `update` (another field manager joins).
 */
export async function planApply(client: KubeClient, items: readonly ApplyItem[], options: ApplyAllOptions = {}): Promise<Change[]> {
  const changes: Change[] = [];
  const batchKinds = new Set(items.filter((i) => i.object.kind === "CustomResourceDefinition").map((i) => crdKindKey(i.object)));
  const created = new Set<string>();
  for (const { object, fieldManager } of items) {
    const ref = refOf(object);
    let action: Action;
    if (created.has(refKey(ref))) {
      action = "update";
    } else if (
      (ref.namespace !== undefined && created.has(refKey({ apiVersion: "v1", kind: "Namespace", name: ref.namespace }))) ||
      (batchKinds.has(`${groupOf(object.apiVersion)}/${object.kind}`) && (await kindUnknown(client, object)))
    ) {
      action = "create";
    } else {
      const live = await client.get(ref);
      const result = await client.apply(object, { fieldManager, dryRun: true });
      action = !live ? "create" : sameContent(live, result) ? "unchanged" : "update";
    }
    if (action === "create") created.add(refKey(ref));
    const change = { ref, action };
    options.onChange?.(change);
    changes.push(change);
  }
  return changes;
}

/**
 * Applies the items in order; a CRD is waited for (Established) before anything after it.
 * Returns what happened to each, judged by its resourceVersion before and after.
 */
export async function applyAll(client: KubeClient, items: readonly ApplyItem[], options: ApplyAllOptions = {}): Promise<Change[]> {
  const changes: Change[] = [];
  for (const { object, fieldManager } of items) {
    const ref = refOf(object);
    const live = await client.get(ref);
    const applied = await client.apply(object, { fieldManager });
    const action: Action = !live ? "create" : live.metadata.resourceVersion === applied.metadata.resourceVersion ? "unchanged" : "update";
    if (object.kind === "CustomResourceDefinition") {
      await waitFor(client, [ref], conditionIs("Established"), { timeoutMs: options.crdTimeoutMs ?? 60_000 });
    }
    const change = { ref, action };
    options.onChange?.(change);
    changes.push(change);
  }
  return changes;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0] ?? "" : "";
}

function crdKindKey(crd: KubeObject): string {
  const spec = crd["spec"] as { group?: string; names?: { kind?: string } } | undefined;
  return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
}
