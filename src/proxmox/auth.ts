/**
 * API token credentials. The secret lives in a private field and leaves it only as the
 * `Authorization` header value; inspection, JSON and string conversion show `<redacted>`.
 */
import { inspect } from "node:util";
import { ProxmoxConfigError } from "./errors.js";

/** Parts of a token id `user@realm!tokenname`. */
export interface TokenIdParts {
  readonly user: string;
  readonly realm: string;
  readonly tokenName: string;
}

// PVE: user names may not contain whitespace, ':' or '/'; realm and token ids are
// `[A-Za-z][A-Za-z0-9\.\-_]+` (pve-realm / pve-tokenid formats).
const tokenIdPattern = /^([^\s:/@!]+)@([A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/;

/** Splits a token id; throws naming the field and the value when it is not `user@realm!id`. */
export function parseTokenId(tokenId: string, field = "tokenId"): TokenIdParts {
  const m = tokenIdPattern.exec(tokenId);
  if (!m) {
    throw new ProxmoxConfigError(field, `'${tokenId}' is not an API token id of the form user@realm!tokenname (e.g. capmox@pve!capi)`);
  }
  return { user: m[1]!, realm: m[2]!, tokenName: m[3]! };
}

export const REDACTED = "<redacted>";

/**
 * A secret value that does not show itself: string conversion, JSON and util.inspect give
 * `<redacted>`; only `reveal()` returns the value. Options objects carry secrets this way
 * so that logging them is harmless.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** The plain value of a secret given as a string or a `Secret`. */
export function revealSecret(secret: string | Secret): string {
  return secret instanceof Secret ? secret.reveal() : secret;
}

export class TokenCredentials {
  readonly tokenId: string;
  readonly #secret: string;

  constructor(tokenId: string, secretInput: string | Secret, fields: { tokenId: string; secret: string } = { tokenId: "tokenId", secret: "secret" }) {
    parseTokenId(tokenId, fields.tokenId);
    const secret = revealSecret(secretInput);
    if (typeof secret !== "string" || secret.trim() === "") throw new ProxmoxConfigError(fields.secret, "the API token secret is empty");
    // Never echo the value: a near-miss secret is still a secret.
    if (/[\s"]/.test(secret)) throw new ProxmoxConfigError(fields.secret, "the API token secret contains whitespace or quotes");
    // It travels in a header: checked here, it is refused when the client is made (naming the
    // field), not on the first request as "Invalid character in header content".
    if (/[^\x21-\x7e]/.test(secret)) {
      throw new ProxmoxConfigError(fields.secret, "the API token secret contains a non-ASCII or control character: a Proxmox token secret is a UUID, plain ASCII");
    }
    this.tokenId = tokenId;
    this.#secret = secret;
  }

  /** The `Authorization` header value: `PVEAPIToken=user@realm!id=secret`. */
  authorizationHeader(): string {
    return `PVEAPIToken=${this.tokenId}=${this.#secret}`;
  }

  /** Replaces every occurrence of the secret in `text` (defence against servers echoing it). */
  scrub(text: string): string {
    return text.includes(this.#secret) ? text.split(this.#secret).join(REDACTED) : text;
  }

  toString(): string {
    return `PVEAPIToken ${this.tokenId} (secret ${REDACTED})`;
  }

  toJSON(): Record<string, string> {
    return { tokenId: this.tokenId, secret: REDACTED };
  }

  [inspect.custom](): string {
    return `TokenCredentials { tokenId: '${this.tokenId}', secret: '${REDACTED}' }`;
  }
}
