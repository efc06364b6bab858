/** Checks the constructs run at construction: each error names the construct, the field and the value. */

/** A construct prop has a value the target API would reject. */
export class ConstructPropError extends Error {
  override readonly name = "ConstructPropError";

  constructor(construct: string, field: string, value: unknown, problem: string) {
    super(`${construct}: ${field} ${JSON.stringify(value)} ${problem}`);
  }
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes object names: DNS-1123 subdomains of at most 253 characters. */
export function requireName(construct: string, field: string, value: string): void {
  if (value.length > 253 || !dnsSubdomain.test(value)) {
    throw new ConstructPropError(construct, field, value, "is not a valid object name (DNS-1123 subdomain)");
  }
}

/** An integer within bounds (inclusive). */
export function requireInteger(construct: string, field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConstructPropError(construct, field, value, `must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}`);
  }
}
