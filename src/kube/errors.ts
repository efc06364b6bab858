/** Errors of the Kubernetes API, carrying the server's status, reason and causes. */

/** One field-level cause from a `Status` answer (e.g. a strict-validation refusal). */
export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export class KubeApiError extends Error {
  override readonly name = "KubeApiError";

  constructor(
    message: string,
    /** HTTP status code. */
    readonly status: number,
    /** `Status.reason`, e.g. `NotFound`, `Invalid`, `BadRequest`. */
    readonly reason: string | undefined,
    readonly causes: readonly StatusCause[],
  ) {
    super(message);
  }

  /** Builds the error from a non-2xx answer; `about` says which request failed. */
  static fromResponse(status: number, body: string, about: string): KubeApiError {
    let parsed: { message?: string; reason?: string; details?: { causes?: StatusCause[] } } | undefined;
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const message = parsed?.message ?? body.slice(0, 500);
    return new KubeApiError(`${about}: HTTP ${status}${parsed?.reason ? ` ${parsed.reason}` : ""}: ${message}`, status, parsed?.reason, parsed?.details?.causes ?? []);
  }
}

/** A wait ran out of time; `pending` names what never reached the wanted state. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";

  constructor(
    message: string,
    readonly pending: readonly string[],
  ) {
    super(message);
  }
}
