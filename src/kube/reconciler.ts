/**
 * The one loop our stand-ins reconcile with, as controller-runtime runs a controller: an
 * informer keeps the latest copy of each object by key; a work queue hands keys to
 * `reconcile` one at a time, so a key edited twice while queued is reconciled once, with
 * its latest object, and never two steps of one key run out of order; a failure is retried
 * with backoff (doubling up to a ceiling); every known object is queued again on a resync.
 */
import type { KubeClient } from "./client.js";
import { inform } from "./informer.js";
import { objectKey, type KubeObject } from "./object.js";

export interface ReconcilerOptions {
  readonly client: KubeClient;
  readonly apiVersion: string;
  readonly kind: string;
  /** Makes the world match the object (undefined: it is gone). Throws to be retried. */
  readonly reconcile: (key: string, object: KubeObject | undefined) => Promise<void>;
  /** Told about failures (retried) and watch errors. */
  readonly log: (line: string) => void;
  /** Only this namespace. @default every namespace */
  readonly namespace?: string;
  /** First retry delay; it doubles per failure of the same key. @default 500 */
  readonly backoffMs?: number;
  /** The longest retry delay. @default 30_000 */
  readonly maxBackoffMs?: number;
  /** Every known object is queued again this often. @default 300_000 */
  readonly resyncMs?: number;
}

export class Reconciler {
  private readonly abort = new AbortController();
  private readonly latest = new Map<string, KubeObject>();
  /** Keys to reconcile, in order; a Set, so a key queued twice is reconciled once. */
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private wake: (() => void) | undefined;
  private loops: Promise<unknown> | undefined;

  constructor(private readonly options: ReconcilerOptions) {}

  start(): void {
    const { client, apiVersion, kind, log } = this.options;
    const informing = inform(
      client,
      apiVersion,
      kind,
      (object, deleted) => {
        if (deleted) this.latest.delete(objectKey(object));
        else this.latest.set(objectKey(object), object);
        this.enqueue(objectKey(object));
      },
      { signal: this.abort.signal, ...(this.options.namespace ? { namespace: this.options.namespace } : {}), onError: (e) => log(`watch ${kind}: ${(e as Error).message}`) },
    );
    const resync = setInterval(() => [...this.latest.keys()].forEach((key) => this.enqueue(key)), this.options.resyncMs ?? 300_000);
    resync.unref();
    this.abort.signal.addEventListener("abort", () => clearInterval(resync));
    this.loops = Promise.all([informing, this.work()]);
  }

  /** Stops watching and working; a reconcile under way finishes first. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.wake?.();
    await this.loops;
  }

  private enqueue(key: string): void {
    if (this.abort.signal.aborted) return;
    this.queue.add(key);
    this.wake?.();
  }

  private async work(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const key = this.queue.values().next().value as string | undefined;
      if (key === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      this.queue.delete(key);
      try {
        await this.options.reconcile(key, this.latest.get(key));
        this.failures.delete(key);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.retryLater(key, error);
      }
    }
  }

  private retryLater(key: string, error: unknown): void {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.backoffMs ?? 500) * 2 ** (failures - 1));
    this.options.log(`${this.options.kind} ${key}: ${(error as Error).message}; retrying in ${delay} ms`);
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.enqueue(key);
    }, delay);
    timer.unref();
    this.retries.add(timer);
  }
}
