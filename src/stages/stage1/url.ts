/**
 * The Proxmox URL as capmox wants it: `https://host[:port]`, nothing after the port.
 * capmox (and go-proxmox) append `/api2/json` themselves, so a URL that already ends in it
 * makes every call go to `/api2/json/api2/json/...`, which PVE answers with 501.
 */
import { type CheckOutcome, fail, pass } from "../model.js";

/**
 * The URL without a trailing `/api2/json` (or `/api2/json/`) and without a trailing slash; never
 * throws. It only trims text, for the fix a check suggests and so that stage 1 can report such a
 * URL as a failed check. Validating a base URL is src/proxmox's `normalizeBaseUrl`.
 */
export function stripApiPath(url: string): string {
  return url.trim().replace(/\/+$/, "").replace(/\/api2\/(json|extjs|html)$/i, "").replace(/\/+$/, "");
}

export function checkUrl(url: string): CheckOutcome {
  const fixUrl = (example: string): string =>
    `set proxmox.url in the platform config (or PROXMOX_URL) to ${example}`;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return fail(`'${url}' is not a URL`, fixUrl("the node's address, e.g. https://pve1.example.com:8006"));
  }
  const base = `https://${parsed.host || "pve.example.com"}${parsed.port ? "" : ":8006"}`;
  if (parsed.protocol !== "https:") {
    return fail(
      `the URL uses ${parsed.protocol.replace(":", "")}; the Proxmox API is served over HTTPS only (pveproxy on port 8006)`,
      fixUrl(base),
    );
  }
  if (parsed.username || parsed.password) {
    return fail("the URL carries credentials; the API token goes in proxmox.tokenId and the secret source, never in the URL", fixUrl(base));
  }
  if (/\/api2\/(json|extjs|html)\/?$/i.test(parsed.pathname)) {
    return fail(
      `the URL ends in ${parsed.pathname.replace(/\/$/, "")}; capmox appends /api2/json itself, so it would call ${stripApiPath(url)}/api2/json/api2/json/… and get 501 for every request`,
      fixUrl(stripApiPath(url)),
    );
  }
  if (parsed.pathname !== "/" && parsed.pathname !== "") {
    return fail(`the URL has a path (${parsed.pathname}); capmox expects the bare https://host:port`, fixUrl(base));
  }
  if (parsed.search || parsed.hash) {
    return fail("the URL has a query string or fragment, which capmox would carry into every request", fixUrl(base));
  }
  const port = parsed.port || "443";
  const portNote = parsed.port ? "" : " (no port given: 443 is used; PVE itself listens on 8006 unless a proxy is in front)";
  return pass(`https://${parsed.hostname}:${port}${portNote}`);
}
