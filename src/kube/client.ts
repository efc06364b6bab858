/**
 * A small Kubernetes REST client: discovery, server-side apply with strict field
 * validation, reads, deletes, status writes and watch streams. Authentication and TLS come
 * from @kubernetes/client-node's KubeConfig (certificates, tokens, exec plugins), the HTTP
 * is node:https so every query parameter of the API (fieldValidation, dryRun, force) is
 * reachable, which the typed client's `patch` does not offer.
 */
import { request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "./errors.js";
import type { KubeObject, ObjectRef } from "./object.js";
import { describeRef } from "./object.js";

/** What discovery says about a kind. */
export interface ApiResource {
  readonly apiVersion: string;
  readonly kind: string;
  /** Plural resource name used in paths. */
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyOptions {
  /** Field manager recorded in managedFields. */
  readonly fieldManager: string;
  /** Take over fields another manager owns. @default true */
  readonly force?: boolean;
  /** Server-side dry run: validated and defaulted, not persisted. @default false */
  readonly dryRun?: boolean;
  /** `Strict` refuses unknown and duplicate fields instead of dropping them. @default "Strict" */
  readonly fieldValidation?: "Strict" | "Warn" | "Ignore";
  /** Apply to a subresource, e.g. `status`. */
  readonly subresource?: string;
}

export interface ListOptions {
  /** Namespace to list in; all namespaces when omitted. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface ObjectList {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: KubeObject & { code?: number; reason?: string; message?: string };
}

export interface WatchOptions extends ListOptions {
  readonly resourceVersion: string;
  /** Server closes the stream after this long. @default 300 */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

interface RequestSpec {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** What the request is about, for error messages. */
  readonly about?: string;
}

/** Warnings the API server returns (`Warning` headers), e.g. deprecated API versions. */
export type WarningHandler = (warning: string, about: string) => void;

export class KubeClient {
  /** The API server URL from the kubeconfig's current context. */
  readonly server: string;
  private readonly resources = new Map<string, Promise<Map<string, ApiResource>>>();

  constructor(
    readonly config: KubeConfig,
    private readonly onWarning: WarningHandler = () => {},
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig: current context ${JSON.stringify(config.getCurrentContext())} names no cluster`);
    this.server = cluster.server.replace(/\/+$/, "");
  }

  /** `/version` of the server. */
  async version(): Promise<{ major: string; minor: string; gitVersion: string }> {
    return (await this.request({ method: "GET", path: "/version", about: "server version" })) as {
      major: string;
      minor: string;
      gitVersion: string;
    };
  }

  /** Discovery of a kind; refreshed once when the kind is unknown (a CRD may be new). */
  async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    let found = (await this.discover(apiVersion, false)).get(kind);
    if (!found) found = (await this.discover(apiVersion, true)).get(kind);
    if (!found) throw new Error(`the server does not serve kind ${kind} in ${apiVersion}`);
    return found;
  }

  private discover(apiVersion: string, refresh: boolean): Promise<Map<string, ApiResource>> {
    let entry = this.resources.get(apiVersion);
    if (!entry || refresh) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      entry = this.request({ method: "GET", path, about: `discovery of ${apiVersion}` })
        .then((body) => {
          const map = new Map<string, ApiResource>();
          for (const r of (body as { resources: Array<{ name: string; kind: string; namespaced: boolean }> }).resources) {
            if (!r.name.includes("/")) map.set(r.kind, { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
          }
          return map;
        })
        .catch((error: unknown) => {
          if (error instanceof KubeApiError && error.status === 404) return new Map<string, ApiResource>();
          throw error;
        });
      this.resources.set(apiVersion, entry);
    }
    return entry;
  }

  /** Path of a collection (name omitted) or of one object. */
  async path(ref: Omit<ObjectRef, "name"> & { name?: string }, subresource?: string): Promise<string> {
    const r = await this.resource(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    if (r.namespaced && ref.name !== undefined && !ref.namespace) {
      throw new Error(`${describeRef(ref as ObjectRef)}: metadata.namespace is required for namespaced kind ${ref.kind}`);
    }
    const ns = r.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
    const name = ref.name !== undefined ? `/${encodeURIComponent(ref.name)}` : "";
    return `${base}${ns}/${r.plural}${name}${subresource ? `/${subresource}` : ""}`;
  }

  /** Server-side apply of one object; returns what the server stored (or would store). */
  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const ref = refOf(object);
    const path = await this.path(ref, options.subresource);
    return (await this.request({
      method: "PATCH",
      path,
      query: {
        fieldManager: options.fieldManager,
        force: String(options.force ?? true),
        fieldValidation: options.fieldValidation ?? "Strict",
        dryRun: options.dryRun ? "All" : undefined,
      },
      // JSON is YAML: the apply content type takes it as is.
      body: object,
      contentType: "application/apply-patch+yaml",
      about: `apply ${describeRef(ref)}${options.subresource ? `/${options.subresource}` : ""}`,
    })) as KubeObject;
  }

  /** Creates the object (POST); a 409 when it exists already. */
  async create(object: KubeObject): Promise<KubeObject> {
    const ref = refOf(object);
    const path = await this.path({ apiVersion: ref.apiVersion, kind: ref.kind, ...(ref.namespace ? { namespace: ref.namespace } : {}) });
    return (await this.request({ method: "POST", path, body: object, about: `create ${describeRef(ref)}` })) as KubeObject;
  }

  /** The object, or undefined when it does not exist. */
  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return (await this.request({ method: "GET", path: await this.path(ref), about: `get ${describeRef(ref)}` })) as KubeObject;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<ObjectList> {
    const path = await this.path({ apiVersion, kind, namespace: options.namespace });
    const body = (await this.request({
      method: "GET",
      path,
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
      about: `list ${kind}`,
    })) as { items: KubeObject[]; metadata: { resourceVersion: string } };
    // List items carry no apiVersion/kind; give them back so callers can apply them again.
    return {
      items: body.items.map((item) => ({ ...item, apiVersion, kind })),
      resourceVersion: body.metadata.resourceVersion,
    };
  }

  /** Deletes the object; true when it existed. */
  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.request({ method: "DELETE", path: await this.path(ref), about: `delete ${describeRef(ref)}` });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Streams watch events to `onEvent` until the server closes the stream, the signal
   * aborts, or `onEvent` returns true (then the stream is closed by us).
   */
  async watch(apiVersion: string, kind: string, options: WatchOptions, onEvent: (event: WatchEvent) => boolean | void): Promise<void> {
    const path = await this.path({ apiVersion, kind, namespace: options.namespace });
    const response = await this.open({
      method: "GET",
      path,
      query: {
        watch: "1",
        allowWatchBookmarks: "true",
        resourceVersion: options.resourceVersion,
        timeoutSeconds: String(options.timeoutSeconds ?? 300),
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      signal: options.signal,
      about: `watch ${kind}`,
    });
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        response.destroy();
        resolve();
      };
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          try {
            if (onEvent(JSON.parse(line) as WatchEvent) === true) return finish();
          } catch (error) {
            response.destroy();
            return reject(error);
          }
        }
      });
      response.on("end", resolve);
      response.on("close", resolve);
      response.on("error", (error) => (options.signal?.aborted ? resolve() : reject(error)));
    });
  }

  /** One request; JSON in and out. Non-2xx answers become KubeApiError. */
  async request(spec: RequestSpec): Promise<unknown> {
    const response = await this.open(spec);
    const text = await readBody(response);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  private async open(spec: RequestSpec): Promise<IncomingMessage> {
    const url = new URL(this.server + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const options: RequestOptions = { method: spec.method, headers: { Accept: "application/json" } };
    await this.config.applyToHTTPSOptions(options);
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: Record<string, string> = { ...(options.headers as Record<string, string>) };
    if (body !== undefined) {
      headers["Content-Type"] = spec.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const about = spec.about ?? `${spec.method} ${spec.path}`;
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { ...options, headers, signal: spec.signal }, resolve);
      req.on("error", (error) =>
        reject(new Error(`${about}: cannot reach the API server at ${this.server}: ${error.message}`, { cause: error })),
      );
      if (body !== undefined) req.write(body);
      req.end();
    });
    for (const warning of headerValues(response.headers.warning)) this.onWarning(warning, about);
    if ((response.statusCode ?? 0) >= 300) {
      const text = await readBody(response);
      throw KubeApiError.fromResponse(response.statusCode ?? 0, text, about);
    }
    return response;
  }
}

function headerValues(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  // `299 - "message"`: keep the message only.
  return (Array.isArray(header) ? header : [header]).map((w) => w.replace(/^\d{3}\s+\S+\s+"(.*)"$/, "$1"));
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
  });
}

/** The reference of an object (apiVersion, kind, namespace, name). */
export function refOf(object: KubeObject): ObjectRef {
  if (!object.apiVersion || !object.kind || !object.metadata?.name) {
    throw new Error(`object without apiVersion/kind/metadata.name: ${JSON.stringify({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name })}`);
  }
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace };
}
