/**
 * What stages 3, 4 and 8 need from a management environment that runs its controllers as
 * local processes instead of Deployments (`npm run mgmt:up`, src/mgmt): the registry
 * ConfigMap that lists them and how to read it. The environment writes it with
 * `localControllersObjects`; a real cluster has no such ConfigMap. The stages own this
 * contract, so they load nothing of the environment (and the environment depends on them).
 */
import type { KubeClient, KubeObject } from "../kube/index.js";

/** ConfigMap `cozy-proxmox-env/local-controllers`, key `controllers.json`: an array of `LocalController`. */
export const localControllersRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "cozy-proxmox-env", name: "local-controllers" } as const;

/** One local controller process as the registry lists it. */
export interface LocalController {
  readonly name: string;
  readonly version: string;
  readonly pid?: number;
  /** Plain-HTTP health endpoint on 127.0.0.1 (absent for in-process stand-ins). */
  readonly healthUrl?: string;
  /** True for a stand-in of ours (not the real component). */
  readonly standIn?: boolean;
}

/** The registry's Namespace and ConfigMap listing `entries`. */
export function localControllersObjects(entries: readonly LocalController[]): KubeObject[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: localControllersRef.namespace } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: localControllersRef.name, namespace: localControllersRef.namespace },
      data: { "controllers.json": JSON.stringify(entries, null, 2) },
    },
  ];
}

/** The environment's local controller processes, or undefined in a real cluster (no registry ConfigMap). */
export async function localControllers(client: KubeClient): Promise<LocalController[] | undefined> {
  const map = await client.get(localControllersRef);
  const text = (map?.["data"] as Record<string, string> | undefined)?.["controllers.json"];
  return text === undefined ? undefined : (JSON.parse(text) as LocalController[]);
}

/** True when a GET of `url` answers 2xx within 2 s (a health endpoint). */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}
