/**
 * What a handler gets for one request: the cluster state, access checks, the task runner,
 * who is asking, the validated parameters (path params included) and uploaded files.
 */
import type { Access, AuthInfo } from "./access.js";
import { businessError, PveError } from "./errors.js";
import type { ApiMethod } from "./schema.js";
import type { LabState, LabTask } from "./state.js";
import type { TaskRunner, TaskSpec } from "./tasks.js";

/** A file part of a multipart upload. */
export interface UploadedFile {
  readonly filename: string;
  readonly data: Buffer;
}

/** A handler answer with top-level siblings of `data` (e.g. the task log's `total`). */
export class Reply {
  readonly data: unknown;
  readonly extra: Readonly<Record<string, unknown>>;
  constructor(data: unknown, extra: Record<string, unknown> = {}) {
    this.data = data;
    this.extra = extra;
  }
}

/** A request handler; returns the value of `data` (or a Reply). */
export type Handler = (ctx: HandlerContext) => unknown;

/** Per-request context. */
export class HandlerContext {
  readonly state: LabState;
  readonly access: Access;
  readonly auth: AuthInfo;
  readonly params: Readonly<Record<string, unknown>>;
  readonly files: ReadonlyMap<string, UploadedFile>;
  readonly api: ApiMethod;
  private readonly tasks: TaskRunner;
  private readonly failTask: string | undefined;

  constructor(init: {
    state: LabState;
    access: Access;
    tasks: TaskRunner;
    auth: AuthInfo;
    params: Record<string, unknown>;
    files: ReadonlyMap<string, UploadedFile>;
    api: ApiMethod;
    failTask: string | undefined;
  }) {
    this.state = init.state;
    this.access = init.access;
    this.tasks = init.tasks;
    this.auth = init.auth;
    this.params = init.params;
    this.files = init.files;
    this.api = init.api;
    this.failTask = init.failTask;
  }

  /** A string parameter (validated by the schema already). */
  str(name: string): string | undefined {
    const v = this.params[name];
    return v === undefined ? undefined : String(v);
  }

  /** A required string parameter (path params). */
  need(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw new PveError(400, "Parameter verification failed.", { errors: { [name]: "property is missing and it is not optional" } });
    return v;
  }

  /** An integer parameter. */
  int(name: string): number | undefined {
    const v = this.params[name];
    return v === undefined ? undefined : Number(v);
  }

  /** A boolean parameter as true/false (the schema coerced it to 0/1). */
  flag(name: string): boolean | undefined {
    const v = this.params[name];
    return v === undefined ? undefined : v === 1 || v === true;
  }

  /** Starts a worker task owned by the caller; an injected `failTask` fault makes it fail. */
  startTask(spec: Omit<TaskSpec, "authid" | "failWith">): string {
    const task: LabTask = this.tasks.start({
      ...spec,
      authid: this.auth.authid,
      ...(this.failTask === undefined ? {} : { failWith: this.failTask }),
    });
    return task.upid;
  }

  /**
   * For PVE's synchronous variants (`background_delay`, `delay`): waits up to `seconds` for
   * the task; null when it ended OK, the UPID when it still runs, else PVE's error
   * `<failure>: <exit status>`.
   */
  async awaitTask(upid: string, seconds: number, failure: string): Promise<string | null> {
    const task = await this.tasks.ended(upid, seconds * 1000);
    if (task?.status !== "stopped") return upid;
    if (task.exitstatus === "OK") return null;
    throw businessError(`${failure}: ${task.exitstatus ?? "unknown error"}`);
  }

  /** Raises 400 "Only root may use this option." for root-only parameters. */
  rootOnly(...names: string[]): void {
    const errors: Record<string, string> = {};
    for (const n of names) if (this.params[n] !== undefined && this.auth.authid !== "root@pam") errors[n] = "Only root may use this option.";
    if (Object.keys(errors).length > 0) throw new PveError(400, "Parameter verification failed.", { errors });
  }
}
