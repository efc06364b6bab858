/**
 * The TLS check: how the API's certificate is trusted (CA file, pinned fingerprint, system
 * trust store, or explicitly not at all) and whether that actually works against the server.
 *
 * It opens its own TLS connection (verification off, so it can always read the certificate)
 * and then judges the result the way the chosen mode would, so a failure can name the
 * certificate's fingerprint and issuer, which is what the user needs to fix it.
 */
import { X509Certificate } from "node:crypto";
import { connect, type PeerCertificate } from "node:tls";
import { isIP } from "node:net";
import { resolveTlsMode, type TlsOptions } from "../../proxmox/index.js";
import { type CheckOutcome, fail, pass, warn } from "../model.js";

export type TlsMode = "insecure" | "fingerprint" | "ca-file" | "system";

/** The client's TLS options, resolved (the CA file read) the way the client resolves them. */
export function tlsMode(tls: TlsOptions): { mode: TlsMode; ca?: string; caSource?: string; fingerprint?: string } {
  const resolved = resolveTlsMode(tls);
  switch (resolved.mode) {
    case "insecure":
      return { mode: "insecure" };
    case "pin":
      return { mode: "fingerprint", fingerprint: resolved.fingerprint };
    case "verify":
      return resolved.ca ? { mode: "ca-file", ca: resolved.ca, caSource: resolved.caSource ?? "the CA file" } : { mode: "system" };
  }
}

export interface TlsProbe {
  /** Chain and host name verified against `ca` (or the system store). */
  readonly authorized: boolean;
  readonly authorizationError?: string;
  readonly fingerprint256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly validTo: string;
  readonly altNames: string;
  /** The server's certificate, PEM. */
  readonly certPem: string;
}

export class TlsProbeError extends Error {
  override readonly name = "TlsProbeError";
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function dn(value: PeerCertificate["subject"] | undefined): string {
  if (!value) return "";
  return Object.entries(value)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
    .join(", ");
}

/** Connects to the URL's host and port and reports the certificate and its verification. */
export function probeTls(url: string, options: { ca?: string; timeoutMs: number; signal?: AbortSignal }): Promise<TlsProbe> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      ...(options.ca ? { ca: options.ca } : {}),
      rejectUnauthorized: false,
    });
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
    };
    const onAbort = (): void => finish(new TlsProbeError("aborted", "ABORT_ERR"));
    const timer = setTimeout(
      () => finish(new TlsProbeError(`no TLS handshake with ${host}:${port} within ${options.timeoutMs} ms`, "ETIMEDOUT")),
      options.timeoutMs,
    );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      const probe: TlsProbe = {
        authorized: socket.authorized,
        ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
        fingerprint256: cert.fingerprint256 ?? "",
        subject: dn(cert.subject),
        issuer: dn(cert.issuer),
        validTo: cert.valid_to ?? "",
        altNames: cert.subjectaltname ?? "",
        certPem: cert.raw ? new X509Certificate(cert.raw).toString() : "",
      };
      finish();
      resolve(probe);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      finish(new TlsProbeError(`cannot open a TLS connection to ${host}:${port}: ${error.code ?? error.message}`, error.code, { cause: error }));
    });
  });
}

/** `aa:bb…`, `AABB…` and `AA:BB…` compare equal. */
export function sameFingerprint(a: string, b: string): boolean {
  const hex = (v: string): string => v.replace(/[^0-9a-f]/gi, "").toUpperCase();
  return hex(a) === hex(b);
}

const ALTNAME_ERRORS = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "ERR_TLS_CERT_ALTNAME_FORMAT"]);

function describeCert(p: TlsProbe): string {
  return `certificate subject ${p.subject || "(none)"}, issuer ${p.issuer || "(none)"}, names ${p.altNames || "(none)"}, SHA-256 fingerprint ${p.fingerprint256}`;
}

/** Judges a probe by the mode the user chose. */
export function judgeTls(tls: TlsOptions, url: string, probe: TlsProbe): CheckOutcome {
  const host = new URL(url).hostname;
  const resolved = tlsMode(tls);
  const mode = resolved.mode;
  const alternatives =
    `either copy the cluster CA from a node (/etc/pve/pve-root-ca.pem) and set proxmox.tls.caFile (PROXMOX_CA_FILE), ` +
    `or pin the certificate with proxmox.tls.fingerprint (PROXMOX_FINGERPRINT=${probe.fingerprint256}), ` +
    "or, only if you accept an unverified connection, set proxmox.tls.insecure: true (PROXMOX_INSECURE=true)";
  switch (mode) {
    case "insecure":
      return warn(
        "TLS verification is OFF because insecure is set explicitly: anyone between you and Proxmox can read and change the traffic, token included",
        `verify instead: set proxmox.tls.fingerprint (PROXMOX_FINGERPRINT=${probe.fingerprint256}) or proxmox.tls.caFile (PROXMOX_CA_FILE), and remove insecure`,
        `connected; the server presents ${describeCert(probe)}`,
        { mode },
      );
    case "fingerprint": {
      if (sameFingerprint(probe.fingerprint256, resolved.fingerprint ?? "")) {
        return pass(`certificate pinned by SHA-256 fingerprint ${probe.fingerprint256}`, { mode });
      }
      return fail(
        `the server's certificate fingerprint is ${probe.fingerprint256}, but the config pins ${resolved.fingerprint ?? ""}; ${describeCert(probe)}`,
        "if the certificate was renewed on purpose, put the new fingerprint in proxmox.tls.fingerprint (PROXMOX_FINGERPRINT); " +
          "if not, something between you and Proxmox presents another certificate: do not connect until you know why",
        { mode },
      );
    }
    case "ca-file":
    case "system": {
      if (probe.authorized) {
        return pass(
          mode === "ca-file" ? `certificate verified against ${resolved.caSource ?? "the configured CA"}` : "certificate verified against the system trust store",
          { mode },
        );
      }
      const code = probe.authorizationError ?? "unknown verification error";
      const trust = mode === "ca-file" ? `the CA in ${resolved.caSource ?? "the configured CA file"}` : "the system trust store";
      if (ALTNAME_ERRORS.has(code)) {
        return fail(
          `the certificate does not name '${host}' (${code}); ${describeCert(probe)}`,
          `connect with a host name the certificate carries (set proxmox.url accordingly), or issue a certificate for '${host}' (pvenode cert set / ACME)`,
          { mode },
        );
      }
      return fail(
        `the certificate is not trusted by ${trust}: ${code}; ${describeCert(probe)}`,
        mode === "ca-file"
          ? `check that ${resolved.caSource ?? "the CA file"} holds the CA that signed this certificate (on a node: /etc/pve/pve-root-ca.pem, or your own CA if you installed a custom certificate); ${alternatives}`
          : `Proxmox's default certificate is signed by the cluster's own CA, which no system trusts; ${alternatives}`,
        { mode },
      );
    }
  }
}
