/**
 * How the client trusts the Proxmox server's certificate. Exactly one of three modes, and
 * verification is on unless the user turns it off:
 *   - verify: the system CAs, or a CA file / PEM (`caFile`, `caPem`), plus the host name;
 *   - pin: the leaf certificate's SHA-256 fingerprint (`fingerprint`), nothing else;
 *   - insecure: no check at all (`insecure: true`).
 * The check runs before the socket is handed to the HTTP layer, so a request (and its
 * Authorization header) is never written to an unverified peer.
 */
import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from "node:tls";
import { ProxmoxConfigError } from "./errors.js";

export interface TlsOptions {
  /** PEM file with the CA that signed the server certificate (e.g. a copy of `/etc/pve/pve-root-ca.pem`). */
  readonly caFile?: string;
  /** The same, as PEM text. */
  readonly caPem?: string;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:…` (`pvenode cert info`). */
  readonly fingerprint?: string;
  /** Skip verification entirely. @default false */
  readonly insecure?: boolean;
}

export type TlsMode =
  | { readonly mode: "verify"; readonly ca?: string; readonly caSource?: string }
  | { readonly mode: "pin"; readonly fingerprint: string }
  | { readonly mode: "insecure" };

/** `AA:BB:…` upper-case form of a SHA-256 fingerprint given with or without colons. */
export function normalizeFingerprint(value: string, field = "tls.fingerprint"): string {
  const hex = value.replace(/[\s:]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new ProxmoxConfigError(field, `'${value}' is not a SHA-256 certificate fingerprint (32 bytes as hex, e.g. AA:BB:…:FF)`);
  }
  return hex.match(/../g)!.join(":");
}

/** Validates the options and reads the CA file. Throws `ProxmoxConfigError` naming the field. */
export function resolveTlsMode(options: TlsOptions = {}, prefix = "tls"): TlsMode {
  const chosen = [
    options.caFile !== undefined && `${prefix}.caFile`,
    options.caPem !== undefined && `${prefix}.caPem`,
    options.fingerprint !== undefined && `${prefix}.fingerprint`,
    options.insecure === true && `${prefix}.insecure`,
  ].filter((x): x is string => typeof x === "string");
  if (chosen.length > 1) {
    throw new ProxmoxConfigError(prefix, `choose one way to trust the server, not ${chosen.join(" and ")}`);
  }
  if (options.insecure === true) return { mode: "insecure" };
  if (options.fingerprint !== undefined) {
    return { mode: "pin", fingerprint: normalizeFingerprint(options.fingerprint, `${prefix}.fingerprint`) };
  }
  if (options.caFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(options.caFile, "utf8");
    } catch (error) {
      throw Object.assign(new ProxmoxConfigError(`${prefix}.caFile`, `cannot read CA file '${options.caFile}': ${(error as Error).message}`), {
        cause: error,
      });
    }
    return { mode: "verify", ca: requirePem(pem, `${prefix}.caFile`, `'${options.caFile}'`), caSource: options.caFile };
  }
  if (options.caPem !== undefined) return { mode: "verify", ca: requirePem(options.caPem, `${prefix}.caPem`, "the given text"), caSource: "caPem" };
  return { mode: "verify" };
}

function requirePem(pem: string, field: string, what: string): string {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ProxmoxConfigError(field, `${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/** Options for `tls.connect` in a mode. Verification itself is done by `verifyPeer`. */
export function tlsConnectOptions(mode: TlsMode): { ca?: string; rejectUnauthorized: false } {
  // rejectUnauthorized stays false so that the handshake completes and verifyPeer can say
  // precisely what is wrong (and show the presented fingerprint); verifyPeer rejects.
  return mode.mode === "verify" && mode.ca !== undefined ? { ca: mode.ca, rejectUnauthorized: false } : { rejectUnauthorized: false };
}

/** A certificate that did not pass the configured check. */
export class TlsVerificationFailure extends Error {
  override readonly name = "TlsVerificationFailure";
  constructor(
    message: string,
    readonly code: string,
    readonly peerFingerprint: string | undefined,
  ) {
    super(message);
  }
}

/** Checks the peer of a finished handshake; returns the failure, or undefined when trusted. */
export function verifyPeer(socket: TLSSocket, mode: TlsMode, host: string): TlsVerificationFailure | undefined {
  if (mode.mode === "insecure") return undefined;
  const cert = socket.getPeerCertificate();
  const presented = cert && typeof cert.fingerprint256 === "string" ? cert.fingerprint256.toUpperCase() : undefined;
  if (mode.mode === "pin") {
    if (presented === mode.fingerprint) return undefined;
    return new TlsVerificationFailure(
      `certificate fingerprint ${presented ?? "(none)"} does not match the pinned ${mode.fingerprint}`,
      "ERR_PROXMOX_FINGERPRINT_MISMATCH",
      presented,
    );
  }
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? "CERT_UNTRUSTED");
    const trust = mode.ca ? `the CA from ${mode.caSource}` : "the system's CAs";
    return new TlsVerificationFailure(`certificate not trusted by ${trust} (${code})`, code, presented);
  }
  // `authorized` covers the chain; Node's handshake has also checked the name, but re-check
  // so a session-reuse path cannot skip it.
  const identityError = cert ? checkServerIdentity(host, cert as PeerCertificate) : new Error("no certificate");
  if (identityError) {
    const code = (identityError as NodeJS.ErrnoException).code ?? "ERR_TLS_CERT_ALTNAME_INVALID";
    return new TlsVerificationFailure(`certificate does not name ${host}: ${identityError.message}`, code, presented);
  }
  return undefined;
}

const certErrorCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "HOSTNAME_MISMATCH",
]);

/** Whether a system error code is a TLS failure (handshake, protocol or certificate). */
export function isTlsErrorCode(code: string | undefined): boolean {
  if (!code) return false;
  return certErrorCodes.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_") || code === "ERR_PROXMOX_FINGERPRINT_MISMATCH";
}

/** What to do about a TLS failure: the three ways to trust a Proxmox server. */
export function tlsGuidance(url: string, peerFingerprint: string | undefined): string {
  const presented = peerFingerprint ? ` (the server presented ${peerFingerprint}; compare it with \`pvenode cert info\` on the node before pinning it)` : "";
  return (
    `cannot verify the TLS certificate of ${url}. Choose one: ` +
    `(1) a CA file: tls.caFile / PROXMOX_CA_FILE pointing to the CA that signed it (PVE's own is /etc/pve/pve-root-ca.pem on any node); ` +
    `(2) a fingerprint pin: tls.fingerprint / PROXMOX_FINGERPRINT=<SHA-256 of the certificate>${presented}; ` +
    `(3) no verification, explicitly: tls.insecure / PROXMOX_INSECURE=true`
  );
}
