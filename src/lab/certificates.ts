/**
 * The lab's TLS certificate: a self-signed EC P-256 certificate for 127.0.0.1/localhost
 * generated at each start (like a fresh PVE node's pve-ssl.pem), with its SHA-256
 * fingerprint in PVE's `AA:BB:...` notation (what `/nodes` reports as ssl_fingerprint).
 */
import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

/** A certificate and its key, PEM encoded. */
export interface LabCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by `:`. */
  readonly fingerprint: string;
}

/** Generates a fresh self-signed certificate valid for the loopback names. */
export async function generateCertificate(): Promise<LabCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
  const pems = await generate(
    [
      { name: "commonName", value: "pve-lab.localhost" },
      { name: "organizationName", value: "PVE Cluster Manager CA (lab)" },
    ],
    {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
            { type: 7, ip: "::1" },
          ],
        },
      ],
    },
  );
  return { certPem: pems.cert, keyPem: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}
