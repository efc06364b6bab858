/**
 * Waiting for objects to reach a state, by WATCH (list, then watch from the list's
 * resourceVersion; re-list when the server ends the stream or the version expired).
 * Timeouts are data (`timeoutMs`), never sleeps.
 */
import type { KubeClient } from "./client.js";
import { WaitTimeoutError } from "./errors.js";
import { listAndWatch } from "./list-watch.js";
import type { KubeObject, ObjectRef } from "./object.js";
import { describeRef, objectKey, refKey } from "./object.js";

/** True when the object (undefined: it does not exist) is in the wanted state. */
export type Predicate = (object: KubeObject | undefined) => boolean;

export interface WaitOptions {
  /** How long to wait before giving up with a WaitTimeoutError. */
  readonly timeoutMs: number;
  /** Aborts the wait early (the wait then rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Told about every change of an awaited object; `done` = the predicate holds now. */
  readonly onProgress?: (ref: ObjectRef, object: KubeObject | undefined, done: boolean) => void;
  /** Length of one watch request before it is renewed. @default 60 */
  readonly watchSeconds?: number;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** The object's `status.conditions`, or an empty list. */
export function conditionsOf(object: KubeObject | undefined): readonly Condition[] {
  const status = object?.["status"] as { conditions?: Condition[] } | undefined;
  return Array.isArray(status?.conditions) ? status.conditions : [];
}

/** Predicate: condition `type` has `status` (default "True"). */
export function conditionIs(type: string, status = "True"): Predicate {
  return (object) => conditionsOf(object).some((c) => c.type === type && c.status === status);
}

/** `Ready=False (InstallFailed: chart not found)`, or `not found`, or `no Ready condition`. */
export function describeCondition(object: KubeObject | undefined, type: string): string {
  if (!object) return "not found";
  const condition = conditionsOf(object).find((c) => c.type === type);
  if (!condition) return `no ${type} condition`;
  const detail = [condition.reason, condition.message].filter(Boolean).join(": ");
  return `${type}=${condition.status}${detail ? ` (${detail})` : ""}`;
}

interface Tracked {
  readonly ref: ObjectRef;
  object: KubeObject | undefined;
  done: boolean;
  seen: boolean;
}

/**
 * Waits until `predicate` holds for every ref at the same time as last observed; returns
 * the objects as last seen. On timeout, throws a WaitTimeoutError naming the refs whose
 * predicate did not hold (with `describe` of their last state).
 */
export async function waitFor(
  client: KubeClient,
  refs: readonly ObjectRef[],
  predicate: Predicate,
  options: WaitOptions & { readonly describe?: (object: KubeObject | undefined) => string },
): Promise<Map<string, KubeObject | undefined>> {
  const tracked = new Map<string, Tracked>(refs.map((ref) => [refKey(ref), { ref, object: undefined, done: false, seen: false }]));
  const timeout = new AbortController();
  const finished = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("timeout")), options.timeoutMs);
  const signals = [timeout.signal, finished.signal, ...(options.signal ? [options.signal] : [])];
  const stop = AbortSignal.any(signals);
  const observe = (t: Tracked, object: KubeObject | undefined): void => {
    const done = predicate(object);
    const changed = !t.seen || done !== t.done || object?.metadata.resourceVersion !== t.object?.metadata.resourceVersion;
    t.object = object;
    t.done = done;
    t.seen = true;
    if (changed) options.onProgress?.(t.ref, object, done);
    if ([...tracked.values()].every((x) => x.done)) finished.abort();
  };
  const groups = new Map<string, Tracked[]>();
  for (const t of tracked.values()) {
    const key = `${t.ref.apiVersion}|${t.ref.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  try {
    if (tracked.size > 0) {
      await Promise.all([...groups.values()].map((group) => watchGroup(client, group, observe, stop, options.watchSeconds ?? 60)));
    }
    return new Map([...tracked.values()].map((t) => [refKey(t.ref), t.object]));
  } catch (error) {
    if (finished.signal.aborted) return new Map([...tracked.values()].map((t) => [refKey(t.ref), t.object]));
    if (timeout.signal.aborted && !options.signal?.aborted) {
      const describe = options.describe ?? ((o: KubeObject | undefined) => (o ? "not in the wanted state" : "not found"));
      const pending = [...tracked.values()].filter((t) => !t.done);
      throw new WaitTimeoutError(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${pending.length} of ${tracked.size}: ` +
          pending.map((t) => `${describeRef(t.ref)} (${describe(t.object)})`).join(", "),
        pending.map((t) => describeRef(t.ref)),
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * List + watch one kind, feeding every change of a tracked object to `observe`, until
 * `stop` aborts (all done, timeout or the caller's signal): then it rejects with the reason.
 */
async function watchGroup(
  client: KubeClient,
  group: readonly Tracked[],
  observe: (t: Tracked, object: KubeObject | undefined) => void,
  stop: AbortSignal,
  watchSeconds: number,
): Promise<never> {
  const first = group[0];
  if (!first) throw new Error("empty group");
  const { apiVersion, kind } = first.ref;
  const namespaces = new Set(group.map((t) => t.ref.namespace ?? ""));
  // One namespace: watch only there (RBAC-friendly); several: watch cluster-wide.
  const namespace = namespaces.size === 1 ? [...namespaces][0] || undefined : undefined;
  const byKey = new Map(group.map((t) => [`${t.ref.namespace ?? ""}/${t.ref.name}`, t]));
  const listed = (items: readonly KubeObject[]): void => {
    const present = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, t] of byKey) observe(t, present.get(key));
  };
  const changed = (object: KubeObject, deleted: boolean): void => {
    const t = byKey.get(objectKey(object));
    if (t) observe(t, deleted ? undefined : object);
  };
  await listAndWatch(client, apiVersion, kind, namespace ? { namespace } : {}, { listed, changed }, { signal: stop, watchSeconds });
  throw stop.reason;
}

/**
 * Waits until `predicate` holds for the set of objects of one kind that match the options
 * (a namespace, a label selector), by list + watch; returns that set. On timeout, throws a
 * WaitTimeoutError with `describe` of the last set seen.
 */
export async function waitForList(
  client: KubeClient,
  apiVersion: string,
  kind: string,
  selection: { readonly namespace?: string; readonly labelSelector?: string },
  predicate: (objects: readonly KubeObject[]) => boolean,
  options: WaitOptions & { readonly describe: (objects: readonly KubeObject[]) => string },
): Promise<KubeObject[]> {
  const current = new Map<string, KubeObject>();
  const snapshot = (): KubeObject[] => [...current.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const stop = AbortSignal.any([timeout, ...(options.signal ? [options.signal] : [])]);
  const listed = (items: readonly KubeObject[]): boolean => {
    current.clear();
    for (const o of items) current.set(o.metadata.name, o);
    return predicate(snapshot());
  };
  const changed = (object: KubeObject, deleted: boolean): boolean => {
    if (deleted) current.delete(object.metadata.name);
    else current.set(object.metadata.name, object);
    return predicate(snapshot());
  };
  if (await listAndWatch(client, apiVersion, kind, selection, { listed, changed }, { signal: stop, watchSeconds: options.watchSeconds ?? 60 })) return snapshot();
  if (options.signal?.aborted) throw options.signal.reason;
  throw new WaitTimeoutError(
    `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${kind} in ${selection.namespace ?? "all namespaces"}: ${options.describe(snapshot())}`,
    snapshot().map((o) => describeRef({ apiVersion, kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) })),
  );
}
