/**
 * What a stage gets (its input) and the per-run context the checks share: the API client
 * and memoised lookups, so two checks that need `/cluster/resources` ask once.
 */
import type { PlatformConfig } from "../config/index.js";
import type { KubeClient } from "../kube/index.js";
import type { ClusterResource, ClusterStatusEntry, ProxmoxApi, PveVersion, TlsOptions } from "../proxmox/index.js";
import type { RunListener } from "./runner.js";
import type { TenantInput } from "./tenant/input.js";
import type { Timeouts } from "./timeouts.js";

/** Input of stages 1 and 2 (and what bootstrap hands `runStage(1, …)` as its preflight). */
export interface StageInput {
  /** The fully defaulted platform config (connection overrides already applied). */
  readonly config: PlatformConfig;
  /** A client for `config.proxmox` (its URL without any `/api2/json` suffix). */
  readonly api: ProxmoxApi;
  /** The URL as the user wrote it (the URL check judges this one, not the client's). */
  readonly configuredUrl: string;
  /** The TLS options the client was built with. */
  readonly tls: TlsOptions;
  readonly timeouts: Timeouts;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
  /** Strings to scrub from every reason (the token secret). */
  readonly secrets?: readonly string[];
  /** Stages 3 and 4: the management cluster, and what capmox's credentials Secret is made of. */
  readonly management?: ManagementInput;
  /** Stages 5 to 7: the tenant cluster whose workers are Proxmox VMs. */
  readonly tenant?: TenantInput;
}

/** The management cluster a stage 3 run works in. */
export interface ManagementInput {
  readonly client: KubeClient;
  /** The Proxmox token secret for the test tenant's credentials Secret (never logged). */
  readonly tokenSecret: string;
  /** PEM capmox trusts for Proxmox (`root_ca`); absent when TLS is not verified. */
  readonly caPem?: string;
  /**
   * Secrets of the tenants' own tokens by tenant name: the test tenant, modelled on the
   * config's first tenant, lives in that tenant's pool and VMID range and uses its token.
   * @default {} (the shared token)
   */
  readonly tenantTokenSecrets?: Readonly<Record<string, string>>;
  /** Run id (tags, names). @default a new one */
  readonly runId?: string;
}

/** Lazily computed, shared results; a failed lookup is retried by the next check that asks. */
export class StageContext {
  readonly #cache = new Map<string, Promise<unknown>>();

  constructor(readonly input: StageInput) {}

  get api(): ProxmoxApi {
    return this.input.api;
  }

  get config(): PlatformConfig {
    return this.input.config;
  }

  /** Runs `load` once per key; a rejected load is forgotten so a later check can try again. */
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#cache.get(key);
    if (hit) return hit as Promise<T>;
    const promise = load();
    this.#cache.set(key, promise);
    promise.catch(() => this.#cache.delete(key));
    return promise;
  }

  version(): Promise<PveVersion> {
    return this.memo("version", () => this.api.version());
  }

  clusterStatus(): Promise<ClusterStatusEntry[]> {
    return this.memo("cluster-status", () => this.api.clusterStatus());
  }

  vmResources(): Promise<ClusterResource[]> {
    return this.memo("resources-vm", () => this.api.clusterResources("vm"));
  }
}

/** Major release number of `/version` (`9.1.1` → 9). */
export function majorOf(version: PveVersion): number {
  const m = /^(\d+)/.exec(version.release || version.version);
  return m ? Number(m[1]) : Number.NaN;
}
