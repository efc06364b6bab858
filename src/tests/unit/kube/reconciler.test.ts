/**
 * The stand-ins' reconcile loop on a fake API (list, then watch events pushed by the test):
 * one reconcile at a time per key with its latest object, retries with backoff, resync.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../../../kube/index.js";
import { Reconciler, type ReconcilerOptions } from "../../../kube/index.js";

type Event = { type: "ADDED" | "MODIFIED" | "DELETED"; object: KubeObject };

/** A client whose list returns `items` and whose watch delivers what `push` sends, until aborted. */
function fakeApi(items: KubeObject[]): { client: KubeClient; push: (event: Event) => void } {
  let deliver: ((event: Event) => void) | undefined;
  const client = {
    list: async () => ({ items, resourceVersion: "1" }),
    watch: (_v: string, _k: string, options: { signal: AbortSignal }, onEvent: (e: Event) => void) =>
      new Promise<void>((resolve) => {
        deliver = onEvent;
        options.signal.addEventListener("abort", () => resolve());
      }),
  } as unknown as KubeClient;
  return { client, push: (event) => deliver?.(event) };
}

const object = (name: string, value: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" }, data: { value } });
const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

let running: Reconciler | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function start(client: KubeClient, reconcile: ReconcilerOptions["reconcile"], over: Partial<ReconcilerOptions> = {}): string[] {
  const log: string[] = [];
  running = new Reconciler({ client, apiVersion: "v1", kind: "ConfigMap", reconcile, log: (l) => log.push(l), ...over });
  running.start();
  return log;
}

describe("Reconciler", () => {
  it("reconciles each key with its latest object, one at a time, in order, and a deletion as undefined", async () => {
    const api = fakeApi([object("a", "1")]);
    const seen: string[] = [];
    let busy = 0;
    let overlapped = false;
    start(api.client, async (key, o) => {
      overlapped ||= busy > 0;
      busy++;
      await tick();
      seen.push(`${key}=${(o?.["data"] as { value?: string } | undefined)?.value ?? "gone"}`);
      busy--;
    });
    await tick(1);
    // While ns/a's first reconcile runs, two edits and a new key arrive: ns/a runs once more, with "3".
    api.push({ type: "MODIFIED", object: object("a", "2") });
    api.push({ type: "MODIFIED", object: object("a", "3") });
    api.push({ type: "ADDED", object: object("b", "1") });
    await tick(40);
    api.push({ type: "DELETED", object: object("b", "1") });
    await tick(20);
    expect(seen).toEqual(["ns/a=1", "ns/a=3", "ns/b=1", "ns/b=gone"]);
    expect(overlapped).toBe(false);
  });

  it("retries a failed key with doubling backoff until it succeeds", async () => {
    const api = fakeApi([object("a", "1")]);
    const attempts: number[] = [];
    const started = performance.now();
    const log = start(api.client, async () => {
      attempts.push(performance.now() - started);
      if (attempts.length < 3) throw new Error("conflict");
    }, { backoffMs: 20 });
    await tick(150);
    expect(attempts).toHaveLength(3);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(attempts[1]! - attempts[0]! + 10);
    expect(log).toEqual(["ConfigMap ns/a: conflict; retrying in 20 ms", "ConfigMap ns/a: conflict; retrying in 40 ms"]);
  });

  it("queues every known object again on resync", async () => {
    const api = fakeApi([object("a", "1")]);
    let count = 0;
    start(api.client, async () => void count++, { resyncMs: 20 });
    await tick(70);
    expect(count).toBeGreaterThanOrEqual(3);
  });
});
