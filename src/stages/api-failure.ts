/**
 * Turns a failed API call into a check failure that says what went wrong and what to do,
 * by the error's kind.
 */
import { ProxmoxApiError } from "../proxmox/index.js";
import { type CheckOutcome, fail } from "./model.js";

function fixFor(error: ProxmoxApiError, url: string): string {
  switch (error.kind) {
    case "auth":
      return "check the token id (PROXMOX_TOKEN, user@realm!name) and its secret (PROXMOX_SECRET); see check api.auth";
    case "permission":
      return "grant the token the privilege named in the message (see the api.privileges.* checks of stage 1 for the exact pveum commands)";
    case "proxy":
      return "the node that serves this call is unreachable from the node you connect to: start it or check the cluster network (pvecm status)";
    case "network":
    case "timeout":
      return `check that ${url} is reachable from here (host, port 8006, firewall) and that pveproxy runs (systemctl status pveproxy)`;
    case "tls":
      return "fix the TLS trust settings (see check api.tls)";
    case "not-implemented":
      return "this Proxmox VE does not offer the API path; check the PVE version (see check api.pve-version)";
    case "locked":
      return "another operation holds the lock; wait for it to finish and run again";
    default:
      return "read the message from Proxmox above; it names the cause";
  }
}

/** A failure for `what` (e.g. `reading /nodes/pve1/network`) caused by `error`. */
export function apiFailure(what: string, error: unknown, url: string): CheckOutcome {
  if (error instanceof ProxmoxApiError) return fail(`${what} failed: ${error.message}`, fixFor(error, url));
  const message = error instanceof Error ? error.message : String(error);
  return fail(`${what} failed: ${message}`, "fix the cause named above and run again");
}

/** The error's kind, when it is a Proxmox API error. */
export function errorKind(error: unknown): string | undefined {
  return error instanceof ProxmoxApiError ? error.kind : undefined;
}
