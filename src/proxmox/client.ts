/**
 * `HttpProxmoxApi`: the `ProxmoxApi` over HTTP(S). Requests, PVE envelopes, error mapping
 * and retries live here; the operations are thin functions in cluster.ts, storage.ts,
 * qemu.ts, agent.ts and access.ts.
 */
import { inspect } from "node:util";
import * as access from "./access.js";
import * as agent from "./agent.js";
import type { HttpMethod, Params, ProxmoxApi, RequestOptions, RetryPolicy, WaitForTaskOptions } from "./api.js";
import { TokenCredentials } from "./auth.js";
import * as cluster from "./cluster.js";
import { errorFromResponse, ProxmoxApiError } from "./errors.js";
import { HttpTransport, type MultipartBody, type TransportResponse } from "./http.js";
import { baseUrlString, normalizeBaseUrl, type ProxmoxClientOptions, type ProxmoxLogEvent, type ProxmoxLogger } from "./options.js";
import * as qemu from "./qemu.js";
import { apiPath, type Envelope, type Requester } from "./requester.js";
import { backoffDelay, defaultRetryPolicy, resolveRetryPolicy, retryDecision, sleep } from "./retry.js";
import * as storage from "./storage.js";
import { parseUpid, waitForTask } from "./tasks.js";
import { resolveTlsMode } from "./tls.js";
import type {
  AgentExecStarted,
  AgentExecStatus,
  AgentNetworkInterface,
  AgentOsInfo,
  ClusterResource,
  ClusterResourceType,
  ClusterStatusEntry,
  NetworkInterface,
  NetworkInterfaceType,
  NodeStatus,
  NodeStorage,
  NodeStorageFilter,
  NodeSummary,
  PermissionMap,
  PermissionsQuery,
  PoolSummary,
  PveVersion,
  QemuCloneParams,
  QemuConfig,
  QemuConfigQuery,
  QemuConfigUpdate,
  QemuDeleteOptions,
  QemuShutdownOptions,
  QemuStartOptions,
  QemuStatus,
  QemuStopOptions,
  QemuVmSummary,
  StorageConfig,
  StorageVolume,
  TaskLogLine,
  TaskLogPage,
  TaskResult,
  TaskStatus,
  UploadInput,
  Upid,
} from "./types.js";

export const defaultTimeoutMs = 30_000;

export class HttpProxmoxApi implements ProxmoxApi, Requester {
  readonly url: string;
  readonly tokenId: string;
  readonly #credentials: TokenCredentials;
  readonly #transport: HttpTransport;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #logger: ProxmoxLogger | undefined;
  readonly #random: () => number;

  constructor(options: ProxmoxClientOptions) {
    const baseUrl = normalizeBaseUrl(options.url, "url");
    this.#credentials = new TokenCredentials(options.tokenId, options.secret);
    const tls = resolveTlsMode(options.tls);
    if (baseUrl.protocol === "http:" && tls.mode !== "verify") {
      throw new RangeError(`tls: '${baseUrlString(baseUrl)}' is plain HTTP; TLS options (${tls.mode}) apply to https:// URLs only`);
    }
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs: must be a positive number, got ${String(timeoutMs)}`);
    this.url = baseUrlString(baseUrl);
    this.tokenId = options.tokenId;
    this.#retry = resolveRetryPolicy(defaultRetryPolicy, options.retry);
    this.#timeoutMs = timeoutMs;
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#transport = new HttpTransport({
      baseUrl,
      credentials: this.#credentials,
      tls,
      userAgent: options.userAgent ?? "cozy-proxmox",
      maxSockets: options.maxSockets,
    });
  }

  /** Closes idle keep-alive connections. The client stays usable (new calls reconnect). */
  close(): void {
    this.#transport.close();
  }

  toString(): string {
    return `HttpProxmoxApi(${this.url}, ${this.tokenId})`;
  }

  toJSON(): Record<string, string> {
    return { url: this.url, tokenId: this.tokenId };
  }

  [inspect.custom](): string {
    return `HttpProxmoxApi { url: '${this.url}', tokenId: '${this.tokenId}' }`;
  }

  // ---- raw access ---------------------------------------------------------------------

  async request<T = unknown>(method: HttpMethod, path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return (await this.requestEnvelope<T>(method, path, params, options)).data;
  }

  get<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>("GET", path, params, options);
  }

  post<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>("POST", path, params, options);
  }

  put<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>("PUT", path, params, options);
  }

  delete<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>("DELETE", path, params, options);
  }

  /** The whole PVE body (`data` plus e.g. `total`). */
  async requestEnvelope<T>(method: HttpMethod, path: string, params?: Params, options: RequestOptions = {}): Promise<Envelope<T>> {
    checkPath(path);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    return this.#withRetries<T>(method, path, options, () =>
      this.#transport.send({ method, path, params, timeoutMs, signal: options.signal }),
    );
  }

  /** A multipart POST (upload). Retried only when it provably never reached the server. */
  upload<T>(path: string, body: MultipartBody, options: RequestOptions = {}): Promise<T> {
    checkPath(path);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    return this.#withRetries<T>("POST", path, options, () =>
      this.#transport.send({ method: "POST", path, multipart: body, timeoutMs, signal: options.signal }),
    ).then((envelope) => envelope.data);
  }

  async #withRetries<T>(method: HttpMethod, path: string, options: RequestOptions, send: () => Promise<TransportResponse>): Promise<Envelope<T>> {
    const policy = resolveRetryPolicy(this.#retry, options.retry, "options.retry");
    const logPath = path.split("?")[0]!;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      this.#log({ type: "request", method, path: logPath, attempt });
      let error: ProxmoxApiError;
      try {
        const response = await send();
        this.#log({ type: "response", method, path: logPath, attempt, status: response.status, durationMs: performance.now() - started });
        if (response.status >= 200 && response.status < 300) return this.#envelope<T>(method, logPath, response);
        error = errorFromResponse({
          method,
          path: logPath,
          status: response.status,
          reason: response.reason,
          body: response.body,
          tokenId: this.tokenId,
          scrub: (text) => this.#credentials.scrub(text),
        });
      } catch (caught) {
        if (!(caught instanceof ProxmoxApiError)) throw caught;
        error = caught;
      }
      const decision = retryDecision(method, error);
      if (!decision.retry || attempt >= policy.maxAttempts || options.signal?.aborted) {
        error.markAttempts(attempt);
        this.#log({ type: "failure", method, path: logPath, attempts: attempt, kind: error.kind, message: error.message });
        throw error;
      }
      const delayMs = backoffDelay(attempt, policy, this.#random);
      this.#log({ type: "retry", method, path: logPath, attempt, delayMs, reason: decision.reason });
      try {
        await sleep(delayMs, options.signal);
      } catch (cause) {
        throw new ProxmoxApiError({ kind: "aborted", method, path: logPath, attempts: attempt, requestSent: error.requestSent, cause });
      }
    }
  }

  #envelope<T>(method: HttpMethod, path: string, response: TransportResponse): Envelope<T> {
    const body = response.body;
    if (body === undefined) return { data: null as T };
    if (typeof body !== "object" || body === null || Array.isArray(body) || !("data" in body)) {
      throw new ProxmoxApiError({ kind: "protocol", method, path, status: response.status, reason: response.reason, hint: "response has no 'data' envelope" });
    }
    const { data, total } = body as { data: T; total?: unknown };
    return typeof total === "number" ? { data, total } : { data };
  }

  #log(event: ProxmoxLogEvent): void {
    if (!this.#logger) return;
    try {
      this.#logger(event);
    } catch {
      // A broken logger must not break API calls.
    }
  }

  // ---- tasks ------------------------------------------------------------------------------

  taskStatus(upid: Upid, node?: string): Promise<TaskStatus> {
    const target = node ?? parseUpid(upid).node;
    return this.request("GET", apiPath`/nodes/${target}/tasks/${upid}/status`);
  }

  async taskLog(upid: Upid, range: { readonly start?: number; readonly limit?: number } = {}): Promise<TaskLogPage> {
    const { node } = parseUpid(upid);
    const page = await this.requestEnvelope<TaskLogLine[]>("GET", apiPath`/nodes/${node}/tasks/${upid}/log`, {
      start: range.start,
      limit: range.limit,
    });
    const lines = page.data ?? [];
    return { lines, total: page.total ?? lines.length };
  }

  async taskLogTail(upid: Upid, lines = 20): Promise<string[]> {
    const first = await this.taskLog(upid, { start: 0, limit: lines });
    const page = first.total > lines ? await this.taskLog(upid, { start: first.total - lines, limit: lines }) : first;
    return page.lines.map((line) => line.t);
  }

  waitForTask(upid: Upid, options?: WaitForTaskOptions): Promise<TaskResult> {
    return waitForTask(this, upid, options);
  }

  // ---- cluster and nodes ----------------------------------------------------------------

  version(): Promise<PveVersion> {
    return cluster.version(this);
  }
  nodes(): Promise<NodeSummary[]> {
    return cluster.nodes(this);
  }
  nodeStatus(node: string): Promise<NodeStatus> {
    return cluster.nodeStatus(this, node);
  }
  clusterStatus(): Promise<ClusterStatusEntry[]> {
    return cluster.clusterStatus(this);
  }
  clusterResources(type?: ClusterResourceType): Promise<ClusterResource[]> {
    return cluster.clusterResources(this, type);
  }
  nextId(vmid?: number): Promise<number> {
    return cluster.nextId(this, vmid);
  }
  isVmidFree(vmid: number): Promise<boolean> {
    return cluster.isVmidFree(this, vmid);
  }
  pools(poolid?: string): Promise<PoolSummary[]> {
    return cluster.pools(this, poolid);
  }
  nodeNetwork(node: string, type?: NetworkInterfaceType): Promise<NetworkInterface[]> {
    return cluster.nodeNetwork(this, node, type);
  }

  // ---- storage --------------------------------------------------------------------------------

  storages(): Promise<StorageConfig[]> {
    return storage.storages(this);
  }
  nodeStorages(node: string, filter?: NodeStorageFilter): Promise<NodeStorage[]> {
    return storage.nodeStorages(this, node, filter);
  }
  storageContent(node: string, storageId: string, filter?: { readonly content?: string; readonly vmid?: number }): Promise<StorageVolume[]> {
    return storage.storageContent(this, node, storageId, filter);
  }
  uploadFile(node: string, storageId: string, input: UploadInput, options?: RequestOptions): Promise<Upid> {
    return storage.uploadFile(this, node, storageId, input, options);
  }

  // ---- QEMU -------------------------------------------------------------------------------------

  listVms(node: string, options?: { readonly full?: boolean }): Promise<QemuVmSummary[]> {
    return qemu.listVms(this, node, options);
  }
  vmConfig(node: string, vmid: number, query?: QemuConfigQuery): Promise<QemuConfig> {
    return qemu.vmConfig(this, node, vmid, query);
  }
  updateVmConfig(node: string, vmid: number, changes: QemuConfigUpdate): Promise<Upid> {
    return qemu.updateVmConfig(this, node, vmid, changes);
  }
  updateVmConfigSync(node: string, vmid: number, changes: QemuConfigUpdate): Promise<void> {
    return qemu.updateVmConfigSync(this, node, vmid, changes);
  }
  cloneVm(node: string, vmid: number, params: QemuCloneParams): Promise<Upid> {
    return qemu.cloneVm(this, node, vmid, params);
  }
  resizeVmDisk(node: string, vmid: number, disk: string, size: string): Promise<Upid> {
    return qemu.resizeVmDisk(this, node, vmid, disk, size);
  }
  startVm(node: string, vmid: number, options?: QemuStartOptions): Promise<Upid> {
    return qemu.startVm(this, node, vmid, options);
  }
  stopVm(node: string, vmid: number, options?: QemuStopOptions): Promise<Upid> {
    return qemu.stopVm(this, node, vmid, options);
  }
  shutdownVm(node: string, vmid: number, options?: QemuShutdownOptions): Promise<Upid> {
    return qemu.shutdownVm(this, node, vmid, options);
  }
  deleteVm(node: string, vmid: number, options?: QemuDeleteOptions): Promise<Upid> {
    return qemu.deleteVm(this, node, vmid, options);
  }
  vmStatus(node: string, vmid: number): Promise<QemuStatus> {
    return qemu.vmStatus(this, node, vmid);
  }

  // ---- guest agent ------------------------------------------------------------------------------

  agentOsInfo(node: string, vmid: number): Promise<AgentOsInfo> {
    return agent.agentOsInfo(this, node, vmid);
  }
  agentExec(node: string, vmid: number, command: readonly string[], inputData?: string): Promise<AgentExecStarted> {
    return agent.agentExec(this, node, vmid, command, inputData);
  }
  agentExecStatus(node: string, vmid: number, pid: number): Promise<AgentExecStatus> {
    return agent.agentExecStatus(this, node, vmid, pid);
  }
  agentNetworkInterfaces(node: string, vmid: number): Promise<AgentNetworkInterface[]> {
    return agent.agentNetworkInterfaces(this, node, vmid);
  }

  // ---- access -------------------------------------------------------------------------------------

  permissions(query?: PermissionsQuery): Promise<PermissionMap> {
    return access.permissions(this, query);
  }
}

/** A path relative to `/api2/json`. */
function checkPath(path: string): void {
  if (typeof path !== "string" || !path.startsWith("/") || /^\/api2\//.test(path)) {
    throw new RangeError(`path: expected a path relative to /api2/json starting with '/', got ${JSON.stringify(path)}`);
  }
}

/** Creates the HTTP client; throws `ProxmoxConfigError`/`RangeError` naming a bad option. */
export function createProxmoxClient(options: ProxmoxClientOptions): HttpProxmoxApi {
  return new HttpProxmoxApi(options);
}
