/** A ProxmoxApi for unit tests: only the given methods exist; any other call fails loudly. */
import { ProxmoxApiError, type ProxmoxApi } from "../../../proxmox/index.js";

export function fakeApi(methods: Partial<ProxmoxApi>): ProxmoxApi {
  const base = { url: "https://pve.test:8006", tokenId: "capmox@pve!capi", ...methods };
  return new Proxy(base, {
    get(target, key) {
      if (key in target) return (target as Record<string | symbol, unknown>)[key];
      if (key === "then") return undefined;
      return () => {
        throw new Error(`fake API: ${String(key)} was called but not faked`);
      };
    },
  }) as ProxmoxApi;
}

/** PVE's "does not exist" 500, as the client reports it. */
export function notFound(path: string): ProxmoxApiError {
  return new ProxmoxApiError({ kind: "not-found", method: "GET", path, status: 500, reason: `Configuration file '${path}' does not exist` });
}

/** The 595 of a call proxied to an offline node. */
export function offline(path: string): ProxmoxApiError {
  return new ProxmoxApiError({ kind: "proxy", method: "GET", path, status: 595, reason: "Connection refused" });
}
