/**
 * The lab's input limits: how large a request body may be per endpoint, how long a client may
 * take to send headers and body, and how many body bytes the lab holds at once. PVE has the
 * first (512 KiB, uploads streamed to disk); the lab keeps uploads in memory, so it bounds them
 * too, and bounds time so a client that never finishes cannot hold a connection for ever.
 */

/** Input limits of a lab; every field is a positive integer. */
export interface LabLimits {
  /** Largest JSON or form-urlencoded body, in bytes (PVE's limit). @default 524288 (512 KiB) */
  readonly maxBodyBytes: number;
  /** Largest multipart body of `POST /nodes/{node}/storage/{storage}/upload`, in bytes. @default 67108864 (64 MiB) */
  readonly maxUploadBytes: number;
  /** Body bytes held by all requests together (a body that would pass it is refused with 503). @default 268435456 (256 MiB) */
  readonly maxBufferedBytes: number;
  /**
   * Bytes of uploaded files (ISOs) the lab keeps, all storages together: PVE writes them to
   * disk, the lab holds them in memory. An upload past it fails as on a full disk. @default 1073741824 (1 GiB)
   */
  readonly maxStoredBytes: number;
  /** Time a client has to send the whole body once the lab starts reading it, in ms. @default 30000 */
  readonly bodyTimeoutMs: number;
  /** Time a client has to send a request's headers, in ms. @default 10000 */
  readonly headersTimeoutMs: number;
}

/** The limits of a lab started without `limits`. */
export const DEFAULT_LIMITS: LabLimits = {
  maxBodyBytes: 512 * 1024,
  maxUploadBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
  maxStoredBytes: 1024 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
};

/** Defaults overlaid with `overrides`; a field that is not a positive integer throws, naming it and its value. */
export function resolveLimits(overrides: Partial<LabLimits> = {}): LabLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
      throw new Error(`startLab: limits.${name} ${shown} must be a positive integer`);
    }
  }
  if (limits.maxUploadBytes > limits.maxBufferedBytes) {
    throw new Error(`startLab: limits.maxUploadBytes ${limits.maxUploadBytes} is more than limits.maxBufferedBytes ${limits.maxBufferedBytes}`);
  }
  return limits;
}

/** The body bytes the lab holds across requests: taken while a body is read, given back when its answer is done. */
export class ByteBudget {
  private used = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Bytes held now. */
  get held(): number {
    return this.used;
  }

  /** Takes `n` bytes; false (and nothing taken) when that would pass the maximum. */
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}
