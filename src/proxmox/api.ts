/**
 * `ProxmoxApi`: the seam between the operate layer (stages, VM tests, bootstrap) and a
 * Proxmox VE cluster. The HTTP implementation is `HttpProxmoxApi` (see client.ts); tests
 * hand it the lab's URL and tokens. This interface only grows (additive changes).
 *
 * Conventions: `node` is a PVE node name, `vmid` a number; asynchronous PVE calls return
 * the task's UPID, which `waitForTask` turns into a result (or a `ProxmoxTaskError`).
 * Every failure is a `ProxmoxApiError` (see errors.ts) with a `kind`.
 */
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
  TaskLogPage,
  TaskResult,
  TaskStatus,
  UploadInput,
  Upid,
} from "./types.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** A request parameter; `undefined`/`null` are dropped, booleans become 1/0, arrays repeat the key. */
export type ParamValue = string | number | boolean | readonly (string | number)[] | null | undefined;

export type Params = Readonly<Record<string, ParamValue>>;

/** Retry behaviour (see retry.ts for which failures are retried at all). */
export interface RetryPolicy {
  /** Attempts in total, including the first. 1 = no retries. @default 5 */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles each time (`factor`). @default 250 */
  readonly baseDelayMs: number;
  /** Cap for one delay. @default 8000 */
  readonly maxDelayMs: number;
  /** Growth per retry. @default 2 */
  readonly factor: number;
  /** Randomise each delay between half and all of its value. @default true */
  readonly jitter: boolean;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the call (and its retries). */
  readonly signal?: AbortSignal;
  /** Time limit for one attempt. @default the client's `timeoutMs` */
  readonly timeoutMs?: number;
  /** Override the client's retry policy for this call; `false` = a single attempt. */
  readonly retry?: Partial<RetryPolicy> | false;
}

/** Options of `waitForTask`. */
export interface WaitForTaskOptions {
  /** Give up (with a `ProxmoxApiError` of kind `timeout`) after this long. @default 600000 */
  readonly timeoutMs?: number;
  /** First poll interval; grows by 1.5× per poll. @default 100 */
  readonly pollIntervalMs?: number;
  /** Cap of the poll interval. @default 5000 */
  readonly maxPollIntervalMs?: number;
  /** Log lines to attach to a `ProxmoxTaskError`. @default 20 */
  readonly logTailLines?: number;
  /** Treat `WARNINGS: <n>` as failure (go-proxmox does). @default false */
  readonly failOnWarnings?: boolean;
  readonly signal?: AbortSignal;
}

export interface ProxmoxApi {
  /** Base URL, without `/api2/json`. */
  readonly url: string;
  /** The token id (`user@realm!id`); never the secret. */
  readonly tokenId: string;

  // ---- raw access -------------------------------------------------------------------
  /** Any API call; `path` is relative to `/api2/json` and starts with `/`. Returns `data`. */
  request<T = unknown>(method: HttpMethod, path: string, params?: Params, options?: RequestOptions): Promise<T>;
  get<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T>;
  post<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T>;
  put<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T>;
  delete<T = unknown>(path: string, params?: Params, options?: RequestOptions): Promise<T>;

  // ---- tasks --------------------------------------------------------------------------
  /** `GET /nodes/{node}/tasks/{upid}/status`; `node` defaults to the UPID's node. */
  taskStatus(upid: Upid, node?: string): Promise<TaskStatus>;
  /** `GET /nodes/{node}/tasks/{upid}/log` page (start is 0-based). */
  taskLog(upid: Upid, range?: { readonly start?: number; readonly limit?: number }): Promise<TaskLogPage>;
  /** The last `lines` lines of a task log. */
  taskLogTail(upid: Upid, lines?: number): Promise<string[]>;
  /**
   * Polls the task on its node until it stops. Resolves on `OK` (and `WARNINGS`, unless
   * `failOnWarnings`); rejects with `ProxmoxTaskError` carrying the log tail otherwise.
   */
  waitForTask(upid: Upid, options?: WaitForTaskOptions): Promise<TaskResult>;

  // ---- cluster and nodes --------------------------------------------------------------
  /** `GET /version` */
  version(): Promise<PveVersion>;
  /** `GET /nodes` */
  nodes(): Promise<NodeSummary[]>;
  /** `GET /nodes/{node}/status` */
  nodeStatus(node: string): Promise<NodeStatus>;
  /** `GET /cluster/status` */
  clusterStatus(): Promise<ClusterStatusEntry[]>;
  /** `GET /cluster/resources[?type=]` */
  clusterResources(type?: ClusterResourceType): Promise<ClusterResource[]>;
  /** `GET /cluster/nextid[?vmid=]` as a number (PVE sends a string). A taken `vmid` → error kind `parameter`. */
  nextId(vmid?: number): Promise<number>;
  /** Whether `vmid` is free cluster-wide (`/cluster/nextid?vmid=`). */
  isVmidFree(vmid: number): Promise<boolean>;
  /** `GET /pools[?poolid=]` */
  pools(poolid?: string): Promise<PoolSummary[]>;
  /** `GET /nodes/{node}/network[?type=]` */
  nodeNetwork(node: string, type?: NetworkInterfaceType): Promise<NetworkInterface[]>;

  // ---- storage --------------------------------------------------------------------------
  /** `GET /storage` (cluster storage configuration). */
  storages(): Promise<StorageConfig[]>;
  /** `GET /nodes/{node}/storage` */
  nodeStorages(node: string, filter?: NodeStorageFilter): Promise<NodeStorage[]>;
  /** `GET /nodes/{node}/storage/{storage}/content[?content=][&vmid=]` */
  storageContent(
    node: string,
    storage: string,
    filter?: { readonly content?: string; readonly vmid?: number },
  ): Promise<StorageVolume[]>;
  /** `POST /nodes/{node}/storage/{storage}/upload` (multipart) → UPID (`imgcopy`). */
  uploadFile(node: string, storage: string, input: UploadInput, options?: RequestOptions): Promise<Upid>;

  // ---- QEMU ---------------------------------------------------------------------------------
  /** `GET /nodes/{node}/qemu` */
  listVms(node: string, options?: { readonly full?: boolean }): Promise<QemuVmSummary[]>;
  /** `GET .../qemu/{vmid}/config` */
  vmConfig(node: string, vmid: number, query?: QemuConfigQuery): Promise<QemuConfig>;
  /** `POST .../qemu/{vmid}/config` (asynchronous) → UPID (`qmconfig`). */
  updateVmConfig(node: string, vmid: number, changes: QemuConfigUpdate): Promise<Upid>;
  /** `PUT .../qemu/{vmid}/config` (synchronous). */
  updateVmConfigSync(node: string, vmid: number, changes: QemuConfigUpdate): Promise<void>;
  /** `POST .../qemu/{vmid}/clone` → UPID (`qmclone`, runs on the source node). */
  cloneVm(node: string, vmid: number, params: QemuCloneParams): Promise<Upid>;
  /** `PUT .../qemu/{vmid}/resize` → UPID (`resize`). `size`: `+10G` (grow by) or `60G` (absolute). */
  resizeVmDisk(node: string, vmid: number, disk: string, size: string): Promise<Upid>;
  /** `POST .../status/start` → UPID */
  startVm(node: string, vmid: number, options?: QemuStartOptions): Promise<Upid>;
  /** `POST .../status/stop` → UPID (hard stop) */
  stopVm(node: string, vmid: number, options?: QemuStopOptions): Promise<Upid>;
  /** `POST .../status/shutdown` → UPID (ACPI / agent shutdown) */
  shutdownVm(node: string, vmid: number, options?: QemuShutdownOptions): Promise<Upid>;
  /** `DELETE .../qemu/{vmid}` → UPID (`qmdestroy`) */
  deleteVm(node: string, vmid: number, options?: QemuDeleteOptions): Promise<Upid>;
  /** `GET .../status/current` */
  vmStatus(node: string, vmid: number): Promise<QemuStatus>;

  // ---- QEMU guest agent ---------------------------------------------------------------
  /** `GET .../agent/get-osinfo` (the `result` object) */
  agentOsInfo(node: string, vmid: number): Promise<AgentOsInfo>;
  /** `POST .../agent/exec` */
  agentExec(node: string, vmid: number, command: readonly string[], inputData?: string): Promise<AgentExecStarted>;
  /** `GET .../agent/exec-status?pid=` */
  agentExecStatus(node: string, vmid: number, pid: number): Promise<AgentExecStatus>;
  /** `GET .../agent/network-get-interfaces` (the `result` array) */
  agentNetworkInterfaces(node: string, vmid: number): Promise<AgentNetworkInterface[]>;

  // ---- access -----------------------------------------------------------------------------
  /** `GET /access/permissions[?path=][&userid=]` (the calling token's own when no userid). */
  permissions(query?: PermissionsQuery): Promise<PermissionMap>;
}
