/**
 * Fault injection. A rule matches requests by method and path pattern and adds latency,
 * answers with an error, drops the connection, simulates a config lock timeout or makes the
 * tasks the request starts fail. Rules are set per run (scenario `faults:` / CLI flags) or at
 * run time through `LabHandle.faults`. Randomness is seeded so that error rates are
 * reproducible; `count` makes a rule deterministic ("the next N requests").
 */

/** One fault rule. */
export interface FaultRule {
  /**
   * `"[METHOD ]<path pattern>"` on the API path without `/api2/json`, e.g.
   * `"POST /nodes/* /qemu/* /clone"` (without the spaces), `"GET /cluster/**"`, `"*"`.
   * `*` matches within one path segment, `**` across segments; no method = every method.
   */
  readonly match: string;
  /** Added latency before the answer. @default 0 */
  readonly latencyMs?: number;
  /** Probability (0..1) of answering with `status`/`message` instead. @default 0 (1 when only status/message is set) */
  readonly errorRate?: number;
  /** Status of an injected error. @default 500 */
  readonly status?: number;
  /** Reason phrase / message of an injected error. @default "injected fault" (595: "Connection refused") */
  readonly message?: string;
  /** Destroy the socket without answering. @default false */
  readonly drop?: boolean;
  /** Answer 500 `can't lock file '/var/lock/qemu-server/lock-<vmid>.conf' - got timeout`. @default false */
  readonly lockTimeout?: boolean;
  /** Tasks started by matching requests end with `TASK ERROR: <message>` (`true`: a generic message). */
  readonly failTask?: string | boolean;
  /** Apply to this many matching requests, then expire. @default unlimited */
  readonly count?: number;
}

/** What the server must do with one request. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly drop: boolean;
  readonly error?: { readonly status: number; readonly message: string };
  readonly lockTimeout: boolean;
  readonly failTask?: string;
}

interface ActiveRule {
  readonly id: string;
  readonly rule: FaultRule;
  readonly method?: string;
  readonly pattern: RegExp;
  remaining: number;
}

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = new Set(["GET", "POST", "PUT", "DELETE"]);

function compilePattern(match: string): { method?: string; pattern: RegExp } {
  const trimmed = match.trim();
  const space = trimmed.indexOf(" ");
  let method: string | undefined;
  let path = trimmed;
  if (space > 0 && METHODS.has(trimmed.slice(0, space).toUpperCase())) {
    method = trimmed.slice(0, space).toUpperCase();
    path = trimmed.slice(space + 1).trim();
  } else if (METHODS.has(trimmed.toUpperCase())) {
    method = trimmed.toUpperCase();
    path = "**";
  }
  if (path === "*" || path === "") path = "**";
  const source = path
    .split(/(\*\*|\*)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  const compiled: { method?: string; pattern: RegExp } = { pattern: new RegExp(`^${source}$`) };
  if (method !== undefined) compiled.method = method;
  return compiled;
}

function validateRule(rule: FaultRule): void {
  const bad = (field: string, value: unknown): never => {
    throw new Error(`fault rule ${JSON.stringify(rule.match)}: invalid ${field} ${JSON.stringify(value)}`);
  };
  if (typeof rule.match !== "string" || rule.match.trim() === "") bad("match", rule.match);
  if (rule.errorRate !== undefined && !(rule.errorRate >= 0 && rule.errorRate <= 1)) bad("errorRate", rule.errorRate);
  if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) bad("latencyMs", rule.latencyMs);
  if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 400 && rule.status <= 599)) {
    bad("status", rule.status);
  }
  if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count >= 1)) bad("count", rule.count);
}

function defaultMessage(status: number): string {
  if (status === 595) return "Connection refused";
  if (status === 596) return "Connection timed out";
  return "injected fault";
}

/** Run-time fault switchboard of one lab. */
export class FaultController {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  private random: () => number;

  constructor(seed: number, initial: readonly FaultRule[] = []) {
    this.random = seededRandom(seed);
    for (const rule of initial) this.add(rule);
  }

  /** Adds a rule; returns its id for `remove`. */
  add(rule: FaultRule): string {
    validateRule(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ id, rule, ...compilePattern(rule.match), remaining: rule.count ?? Number.POSITIVE_INFINITY });
    return id;
  }

  /** Shorthand: the next `count` requests matching `match` fail with `status`. */
  failNext(match: string, count: number, status = 500, message?: string): string {
    return this.add({ match, count, status, errorRate: 1, ...(message === undefined ? {} : { message }) });
  }

  /** Removes one rule. */
  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = [];
  }

  /** Reseeds the random source (error rates become reproducible from here). */
  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** The active rules. */
  list(): Array<{ id: string; rule: FaultRule; remaining: number }> {
    return this.rules.map((r) => ({ id: r.id, rule: r.rule, remaining: r.remaining }));
  }

  /** Decides what happens to one request (consumes counted rules). */
  decide(method: string, path: string): FaultDecision {
    let latencyMs = 0;
    let drop = false;
    let lockTimeout = false;
    let failTask: string | undefined;
    let error: { status: number; message: string } | undefined;
    for (const r of this.rules) {
      if (r.method !== undefined && r.method !== method) continue;
      if (!r.pattern.test(path)) continue;
      const { rule } = r;
      const wantsError = rule.errorRate !== undefined || rule.status !== undefined || rule.message !== undefined;
      if (wantsError) {
        const rate = rule.errorRate ?? 1;
        if (this.random() >= rate) continue; // this request escapes the rule
      }
      r.remaining -= 1;
      latencyMs += rule.latencyMs ?? 0;
      if (rule.drop) drop = true;
      if (rule.lockTimeout) lockTimeout = true;
      if (rule.failTask) failTask = typeof rule.failTask === "string" ? rule.failTask : "injected task failure";
      if (wantsError && error === undefined) {
        const status = rule.status ?? 500;
        error = { status, message: rule.message ?? defaultMessage(status) };
      }
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    const decision: { -readonly [K in keyof FaultDecision]: FaultDecision[K] } = { latencyMs, drop, lockTimeout };
    if (error) decision.error = error;
    if (failTask !== undefined) decision.failTask = failTask;
    return decision;
  }
}
