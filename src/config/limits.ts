/**
 * Input limits of the config loader, in one place: the loader enforces them before any work
 * that grows with the input, so a hostile or mistaken platform.yaml is refused quickly with a
 * clear error instead of stalling test:stage, vm-test, bootstrap or synth.
 */
export const limits = {
  /** Largest config file or text, in UTF-8 bytes (a real platform.yaml is a few KiB). */
  maxBytes: 1024 * 1024,
  /** Deepest nesting of mappings and lists (the deepest schema path is 6; Helm values under cozystack.values get the rest). */
  maxDepth: 64,
  /**
   * Most values (keys, list items and scalars) the document may hold after its YAML aliases
   * are expanded: bounds alias bombs and the work of every later check.
   */
  maxValues: 100_000,
  /** YAML syntax errors listed before the rest are summarised as a count. */
  maxSyntaxErrors: 20,
  /** Problems listed in an error message before the rest are summarised as a count. */
  maxListedIssues: 50,
} as const;

/** Length limits of the string fields, with where each comes from (the schema uses them). */
export const lengths = {
  /** RFC 1035 / DNS-1123: a DNS name. */
  dnsName: 253,
  /** RFC 1035 / DNS-1123: one label of a DNS name, a Kubernetes namespace or label value. */
  dnsLabel: 63,
  /** Helm: a release name (it becomes part of object names). */
  helmRelease: 53,
  /** Linux IFNAMSIZ (16 with the NUL): a bridge name. */
  interfaceName: 15,
  /** PVE `pve-userid`: `user@realm`. */
  pveUserId: 64,
  /** PVE `pve-realm`. */
  pveRealm: 32,
  /** PVE sets no bound on a token name; ours, so `user@realm!name` stays short. */
  pveTokenName: 64,
  /** PVE sets no bound on storage ids, pool ids and tags; ours, like a DNS label. */
  pveId: 63,
  /** Linux PATH_MAX: a file path. */
  path: 4096,
  /** An environment variable name (POSIX sets no bound; ours). */
  envName: 255,
  /** A URL: the length browsers and most servers accept. */
  url: 2048,
  /** OpenSSH SSH_MAX_PUBKEY_BYTES: one authorized_keys line. */
  sshKey: 16384,
  /** A Kubernetes version like v1.32.6 (room for pre-release digits). */
  version: 32,
  /** A key of stages.timeouts like `vm.agent`. */
  timeoutKey: 64,
  /** A duration like `90s`. */
  duration: 16,
} as const;

/** Number bounds that have no natural maximum in the schema otherwise. */
export const numbers = {
  /** Kubernetes replica counts are int32. */
  int32: 2_147_483_647,
  /** 4 TiB in MiB: a bound for a VM's memory (PVE's own depends on the CPU's address width). */
  memoryMiB: 4 * 1024 * 1024,
  /** Node's setTimeout delays are int32 milliseconds (about 24.8 days). */
  timeoutMs: 2_147_483_647,
} as const;
