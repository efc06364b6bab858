/**
 * The lab's TLS certificate: a self-signed EC P-256 certificate for 127.0.0.1/localhost
 * generated at each start (like a fresh PVE node's pve-ssl.pem), with its SHA-256
 * fingerprint in PVE's `AA:BB:...` notation (what `/nodes` reports as ssl_fingerprint).
 * Made with @peculiar/x509 on Node's WebCrypto, like the API servers' PKI (src/kube/env/pki.ts).
 */
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

// @peculiar/x509 is typed against the DOM's Crypto; Node's WebCrypto is that implementation.
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1] & webcrypto.Crypto;
const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A certificate and its key, PEM encoded. */
export interface LabCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by `:`. */
  readonly fingerprint: string;
}

/** Generates a fresh self-signed certificate valid for the loopback names. */
export async function generateCertificate(): Promise<LabCertificate> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  // A positive serial number: the top bit of the first byte is cleared.
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString("hex"),
      name: [{ CN: ["pve-lab.localhost"] }, { O: ["PVE Cluster Manager CA (lab)"] }],
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [
            { type: "dns", value: "localhost" },
            { type: "ip", value: "127.0.0.1" },
            { type: "ip", value: "::1" },
          ],
          false,
        ),
      ],
    },
    crypto,
  );
  const certPem = `${cert.toString("pem")}\n`;
  const keyPem = `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY")}\n`;
  return { certPem, keyPem, fingerprint: new X509Certificate(certPem).fingerprint256 };
}
