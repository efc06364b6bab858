/**
 * List + watch of one kind, for the small controllers of our own (stand-ins): every object
 * as it is now, then every change, until the signal aborts. The list is repeated when the
 * server ends the stream or the resourceVersion expired (410), as client-go's reflector does.
 */
import type { KubeClient } from "./client.js";
import { KubeApiError } from "./errors.js";
import type { KubeObject } from "./object.js";

/** Told about an object that exists (`deleted` false) or is gone (`deleted` true). */
export type ObjectHandler = (object: KubeObject, deleted: boolean) => void;

export interface InformOptions {
  readonly signal: AbortSignal;
  readonly namespace?: string;
  /** Pause after an error before listing again. @default 1_000 */
  readonly retryMs?: number;
  /** Told about errors that were retried. @default ignored */
  readonly onError?: (error: unknown) => void;
}

/** Runs until `signal` aborts; never rejects. */
export async function inform(client: KubeClient, apiVersion: string, kind: string, onObject: ObjectHandler, options: InformOptions): Promise<void> {
  const { signal } = options;
  while (!signal.aborted) {
    try {
      const list = await client.list(apiVersion, kind, { namespace: options.namespace });
      for (const object of list.items) onObject(object, false);
      await client.watch(apiVersion, kind, { namespace: options.namespace, resourceVersion: list.resourceVersion, timeoutSeconds: 300, signal }, (event) => {
        if (event.type === "ERROR") {
          if (event.object.code === 410) return true;
          throw new Error(`watch ${kind}: ${event.object.message ?? JSON.stringify(event.object)}`);
        }
        if (event.type !== "BOOKMARK") onObject({ ...event.object, apiVersion, kind }, event.type === "DELETED");
        return signal.aborted;
      });
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof KubeApiError && error.status === 410)) options.onError?.(error);
      // A pause, not a poll: the API server refused or went away; try again shortly.
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1_000));
    }
  }
}
