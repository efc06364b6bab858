/**
 * List + watch of one kind for the small controllers of our own (stand-ins): every object
 * as it is now, then every change, until the signal aborts; errors are retried after a pause.
 */
import type { KubeClient } from "./client.js";
import { listAndWatch } from "./list-watch.js";
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
  const handlers = {
    listed: (items: readonly KubeObject[]) => void items.forEach((object) => onObject(object, false)),
    changed: (object: KubeObject, deleted: boolean) => void onObject(object, deleted),
  };
  const retry = async (error: unknown): Promise<void> => {
    options.onError?.(error);
    // A pause, not a poll: the API server refused or went away; try again shortly.
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1_000));
  };
  await listAndWatch(client, apiVersion, kind, { namespace: options.namespace }, handlers, { signal: options.signal, watchSeconds: 300, retry });
}
