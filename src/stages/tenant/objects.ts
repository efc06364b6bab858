/**
 * The test objects of one stage run in the tenant cluster: applied server-side, awaited by
 * watch, and removed by run id whatever happened (a failed check, a timeout, Ctrl-C).
 * Every object lives in a namespace labelled with the run id, so deleting those namespaces
 * removes them all; cleanup then reports by name anything that is still there.
 */
import { type KubeClient, type KubeObject, type ObjectRef, type Predicate, refKey, waitFor, WaitTimeoutError } from "../../kube/index.js";
import { newRunId } from "../../ownership/index.js";
import { runLabel, stageLabel, type WorkloadBase } from "../workloads/index.js";
import { describePod } from "./pods.js";

export const workloadFieldManager = "cozy-proxmox-stages";

export class TestObjects {
  readonly runId: string;
  /** Namespaces this run created (cleanup also finds them by label). */
  readonly namespaces = new Set<string>();

  constructor(
    readonly client: KubeClient,
    readonly stage: number,
    readonly image: string,
    runId?: string,
  ) {
    this.runId = runId ?? newRunId();
  }

  /** `cozy-stage5-<run id>` or `cozy-stage6-lb-<run id>`. */
  namespaceName(part?: string): string {
    return `cozy-stage${this.stage}-${part ? `${part}-` : ""}${this.runId}`;
  }

  base(namespace: string): WorkloadBase {
    return { namespace, runId: this.runId, stage: this.stage, image: this.image };
  }

  /** The run's label selector (namespaces and everything in them carry it). */
  get selector(): string {
    return `${runLabel}=${this.runId},${stageLabel}=${this.stage}`;
  }

  async apply(objects: readonly KubeObject[]): Promise<void> {
    for (const object of objects) {
      if (object.kind === "Namespace") this.namespaces.add(object.metadata.name);
      await this.client.apply(object, { fieldManager: workloadFieldManager });
    }
  }

  /** Waits (by watch) until `until` holds for the pod; on timeout the error describes the pod. */
  async waitPod(namespace: string, name: string, until: Predicate, timeoutMs: number, signal: AbortSignal): Promise<KubeObject | undefined> {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Pod", namespace, name };
    const seen = await waitFor(this.client, [ref], until, { timeoutMs, signal, describe: (o) => describePod(o, `${namespace}/${name}`) });
    return seen.get(refKey(ref));
  }

  /** Deletes objects and waits until they are gone. */
  async deleteAndWait(refs: readonly ObjectRef[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    for (const ref of refs) await this.client.delete(ref);
    await waitFor(this.client, refs, (o) => o === undefined, { timeoutMs, ...(signal ? { signal } : {}) });
  }

  /**
   * Deletes every namespace of the run (found by label, plus those it applied) and waits
   * until they are gone; returns what is left, empty when clean. Never throws.
   */
  async cleanup(timeoutMs: number): Promise<string[]> {
    try {
      const labelled = await this.client.list("v1", "Namespace", { labelSelector: this.selector });
      const names = new Set([...this.namespaces, ...labelled.items.map((n) => n.metadata.name)]);
      if (names.size === 0) return [];
      const refs = [...names].sort().map((name) => ({ apiVersion: "v1", kind: "Namespace", name }));
      await this.deleteAndWait(refs, timeoutMs);
      return [];
    } catch (error) {
      if (error instanceof WaitTimeoutError) return [`namespaces still terminating after cleanup: ${error.pending.join(", ")} (kubectl get all,pvc -l ${this.selector} -A)`];
      return [`cleanup of the test namespaces (label ${this.selector}) failed: ${(error as Error).message}`];
    }
  }
}
