/**
 * The one list + watch loop (client-go's reflector, in small): every object of a kind as it
 * is now, then every change from the list's resourceVersion; when the server ends the stream
 * or the version expired (410 Gone), list again. Waits (wait.ts) and the stand-ins' informers
 * (informer.ts) are built on it.
 */
import type { KubeClient } from "./client.js";
import { KubeApiError } from "./errors.js";
import type { KubeObject } from "./object.js";

/** What to look at: a namespace (else all), a label selector. */
export interface Selection {
  readonly namespace?: string;
  readonly labelSelector?: string;
}

/** Each handler returns true to end the loop. */
export interface ListWatchHandlers {
  /** Every object there is, after each (re-)list. */
  readonly listed: (items: readonly KubeObject[]) => boolean | void;
  /** One change: the object as it is now, or as it was when `deleted`. */
  readonly changed: (object: KubeObject, deleted: boolean) => boolean | void;
}

export interface ListWatchOptions {
  /** Ends the loop (it then resolves). */
  readonly signal: AbortSignal;
  /** Length of one watch request before it is renewed. @default 60 */
  readonly watchSeconds?: number;
  /** Told about an error other than 410; resolve to list again, reject to end. @default rejects with it */
  readonly retry?: (error: unknown) => Promise<void>;
}

/** Runs until a handler returns true (resolves true) or the signal aborts (resolves false). */
export async function listAndWatch(client: KubeClient, apiVersion: string, kind: string, selection: Selection, handlers: ListWatchHandlers, options: ListWatchOptions): Promise<boolean> {
  const { signal } = options;
  while (!signal.aborted) {
    try {
      const list = await client.list(apiVersion, kind, selection);
      if (handlers.listed(list.items) === true) return true;
      if (signal.aborted) break;
      let ended = false;
      await client.watch(apiVersion, kind, { ...selection, resourceVersion: list.resourceVersion, timeoutSeconds: options.watchSeconds ?? 60, signal }, (event) => {
        if (event.type === "ERROR") {
          if (event.object.code === 410) return true;
          throw new Error(`watch ${kind}: ${event.object.message ?? JSON.stringify(event.object)}`);
        }
        if (event.type === "BOOKMARK") return false;
        ended = handlers.changed({ ...event.object, apiVersion, kind }, event.type === "DELETED") === true;
        return ended || signal.aborted;
      });
      if (ended) return true;
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof KubeApiError && error.status === 410) continue;
      if (!options.retry) throw error;
      await options.retry(error);
    }
  }
  return false;
}
