/**
 * The errors a lab handler raises. Each one carries what PVE would put on the wire:
 * the HTTP status, the message (whose first line becomes the status line's reason phrase)
 * and, for 400s, the per-parameter `errors` map.
 */

/** An error the lab answers with, exactly as PVE's HTTP server would render it. */
export class PveError extends Error {
  /** HTTP status code (400, 401, 403, 500, 501, 595, ...). */
  readonly status: number;
  /** Per-parameter messages of a 400 `Parameter verification failed.`. */
  readonly errors?: Readonly<Record<string, string>>;
  /** 401s and proxy errors (595/596) have an empty body and no Content-Type. */
  readonly emptyBody: boolean;

  constructor(
    status: number,
    message: string,
    options: { errors?: Record<string, string>; emptyBody?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PveError";
    this.status = status;
    if (options.errors) this.errors = options.errors;
    this.emptyBody = options.emptyBody ?? false;
  }
}

/** 400 with PVE's fixed message and an `errors` map. */
export function paramError(errors: Record<string, string>): PveError {
  return new PveError(400, "Parameter verification failed.", { errors });
}

/** 500: a `die` inside a PVE handler (most business errors). */
export function businessError(message: string): PveError {
  return new PveError(500, message);
}

/** 403 `Permission check failed (<what>)`, or without detail when `what` is empty. */
export function permissionError(what?: string): PveError {
  return new PveError(403, what ? `Permission check failed (${what})` : "Permission check failed");
}

/** 501 for a path or method PVE does not know (PVE never answers 404). */
export function notImplemented(method: string, path: string): PveError {
  return new PveError(501, `Method '${method} ${path}' not implemented`);
}

/** The message of a 500 for a VM that has no configuration file on `node`. */
export function missingVmMessage(node: string, vmid: number): string {
  return `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`;
}
