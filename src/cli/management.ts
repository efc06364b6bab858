/**
 * What stages 3 and 4 need besides Proxmox: the management cluster (`--kubeconfig` or
 * `KUBECONFIG`) and what capmox's credentials Secret for the test tenant is made of. capmox
 * has no fingerprint pinning, so a pinned certificate is handed to it as its `root_ca`
 * after the handshake showed it is the pinned one.
 */
import { readFileSync } from "node:fs";
import { clientFromKubeconfig } from "../kube/index.js";
import type { EnvMap } from "../proxmox/index.js";
import type { Connection, StageInput } from "../stages/index.js";
import { probeTls, sameFingerprint } from "../stages/stage1/index.js";
import { UsageError } from "./proxmox-session.js";

/** The kubeconfig path from the flag, else from KUBECONFIG (its first entry). */
export function kubeconfigPathOf(flag: string | undefined, env: EnvMap): string | undefined {
  return flag ?? env["KUBECONFIG"]?.split(":").find((p) => p.trim() !== "");
}

/** The PEM capmox should trust for this connection, undefined when TLS is not verified. */
export async function capmoxRootCa(connection: Connection, timeoutMs: number): Promise<string | undefined> {
  const tls = connection.tls;
  if (tls.insecure) return undefined;
  if (tls.caPem) return tls.caPem;
  if (tls.caFile) return readFileSync(tls.caFile, "utf8");
  if (tls.fingerprint) {
    const probe = await probeTls(connection.url, { timeoutMs });
    if (!sameFingerprint(probe.fingerprint256, tls.fingerprint) || !probe.certPem) {
      throw new UsageError(`the Proxmox certificate (SHA-256 ${probe.fingerprint256}) is not the pinned one; stage 1 tells more`);
    }
    return probe.certPem;
  }
  // System CAs: capmox uses the system store too.
  return undefined;
}

/** The management input of a stage run, or undefined when no kubeconfig is given. */
export async function managementInput(connection: Connection, kubeconfig: string | undefined, timeoutMs: number): Promise<StageInput["management"]> {
  if (!kubeconfig) return undefined;
  const client = clientFromKubeconfig(kubeconfig);
  const caPem = await capmoxRootCa(connection, timeoutMs);
  return { client, tokenSecret: connection.secret, ...(caPem ? { caPem } : {}) };
}
