/**
 * The certificates a throw-away API server needs: a serving CA and a serving certificate
 * for 127.0.0.1/localhost, a client CA and an admin client certificate in
 * `system:masters`, and a service-account signing key. ECDSA P-256 through WebCrypto and
 * @peculiar/x509, so no openssl is needed and key generation takes milliseconds.
 */
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
// @peculiar/x509 is typed against the DOM's Crypto; Node's WebCrypto is that implementation.
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1] & webcrypto.Crypto;
const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

/** Everything kube-apiserver and its admin need. */
export interface EnvPki {
  /** CA that signed the serving certificate (the kubeconfig's certificate-authority-data). */
  readonly servingCa: PemPair;
  readonly serving: PemPair;
  /** CA that kube-apiserver trusts for client certificates (`--client-ca-file`). */
  readonly clientCa: PemPair;
  /** Client certificate of user `admin`, group `system:masters`. */
  readonly admin: PemPair;
  /** Service-account token signing key (PKCS#8) and its public key (SPKI). */
  readonly serviceAccount: { readonly keyPem: string; readonly publicKeyPem: string };
}

export interface PkiOptions {
  /** How long the certificates are valid. @default 7 days */
  readonly validForMs?: number;
  /** Names besides 127.0.0.1 and localhost in the serving certificate. @default [] */
  readonly extraSans?: readonly string[];
}

function serial(): string {
  // Positive 127-bit serial numbers: the top bit of the first byte is cleared.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** PEM text ending in a newline, so that files holding several blocks can be concatenated. */
const lineEnded = (pem: string): string => `${pem.trimEnd()}\n`;

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return lineEnded(x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY"));
}

async function publicKeyPem(key: CryptoKey): Promise<string> {
  return lineEnded(x509.PemConverter.encode(await crypto.subtle.exportKey("spki", key), "PUBLIC KEY"));
}

async function toPem(issued: Issuer): Promise<PemPair> {
  return { certPem: lineEnded(issued.cert.toString("pem")), keyPem: await privateKeyPem(issued.keys.privateKey) };
}

async function newCa(commonName: string, notBefore: Date, notAfter: Date): Promise<Issuer> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: [{ CN: [commonName] }],
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, keys };
}

interface LeafRequest {
  readonly subject: x509.JsonName;
  readonly usage: "server" | "client";
  readonly sans?: readonly x509.JsonGeneralName[];
}

async function newLeaf(issuer: Issuer, request: LeafRequest, notBefore: Date, notAfter: Date): Promise<Issuer> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(
      [request.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey, false, crypto),
  ];
  if (request.sans) extensions.push(new x509.SubjectAlternativeNameExtension([...request.sans], false));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: request.subject,
      issuer: issuer.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      extensions,
    },
    crypto,
  );
  return { cert, keys };
}

const ipPattern = /^\d{1,3}(\.\d{1,3}){3}$|:/;

/** A fresh PKI for one environment; nothing is reused between environments. */
export async function createEnvPki(options: PkiOptions = {}): Promise<EnvPki> {
  // Backdated a little so a clock step between processes does not make them "not yet valid".
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + (options.validForMs ?? 7 * 24 * 60 * 60 * 1000));
  const servingCa = await newCa("cozy-proxmox-test-serving-ca", notBefore, notAfter);
  const clientCa = await newCa("cozy-proxmox-test-client-ca", notBefore, notAfter);
  const sans: x509.JsonGeneralName[] = [
    { type: "ip", value: "127.0.0.1" },
    { type: "dns", value: "localhost" },
    ...(options.extraSans ?? []).map((name): x509.JsonGeneralName =>
      ipPattern.test(name) ? { type: "ip", value: name } : { type: "dns", value: name },
    ),
  ];
  const serving = await newLeaf(servingCa, { subject: [{ CN: ["kube-apiserver"] }], usage: "server", sans }, notBefore, notAfter);
  const admin = await newLeaf(
    clientCa,
    { subject: [{ O: ["system:masters"] }, { CN: ["admin"] }], usage: "client" },
    notBefore,
    notAfter,
  );
  const saKeys = await newKeys();
  return {
    servingCa: await toPem(servingCa),
    serving: await toPem(serving),
    clientCa: await toPem(clientCa),
    admin: await toPem(admin),
    serviceAccount: { keyPem: await privateKeyPem(saKeys.privateKey), publicKeyPem: await publicKeyPem(saKeys.publicKey) },
  };
}

/** A CA (certificate and PKCS#8 key, PEM) loaded back for signing. */
async function loadIssuer(ca: PemPair): Promise<Issuer> {
  const cert = new x509.X509Certificate(ca.certPem);
  const privateKey = await crypto.subtle.importKey("pkcs8", x509.PemConverter.decode(ca.keyPem)[0] as ArrayBuffer, algorithm, true, ["sign"]);
  const publicKey = await cert.publicKey.export(algorithm, ["verify"], crypto);
  return { cert, keys: { privateKey, publicKey } as CryptoKeyPair };
}

/**
 * A serving certificate for 127.0.0.1/localhost signed by `ca`, e.g. for the webhook servers
 * of controllers the API server calls back (it trusts `ca` through each webhook's caBundle).
 */
export async function issueServingCertificate(ca: PemPair, commonName: string, options: PkiOptions = {}): Promise<PemPair> {
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + (options.validForMs ?? 7 * 24 * 60 * 60 * 1000));
  const sans: x509.JsonGeneralName[] = [
    { type: "ip", value: "127.0.0.1" },
    { type: "dns", value: "localhost" },
  ];
  const leaf = await newLeaf(await loadIssuer(ca), { subject: [{ CN: [commonName] }], usage: "server", sans }, notBefore, notAfter);
  return toPem(leaf);
}
