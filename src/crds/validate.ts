/**
 * Strict validation of Kubernetes objects against the openAPIV3Schema of their CRD version
 * in shared/reference/crds: what `kubectl apply --validate=strict` and the API server would
 * reject (unknown fields, wrong types, bounds, patterns, enums, list keys, CEL rules).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { ProfileName } from "../versions/index.js";
import { getProfile } from "../versions/index.js";
import { crdVersion, findCrds, type CrdFile, loadCrd } from "./catalog.js";
import { celOutcome, type CelRule } from "./cel.js";
import { rootSchema, withDefaults } from "./structural.js";
import { fieldPath, pointerSegments, schemaProblem } from "../schema-errors/index.js";

/** One problem of one object. */
export interface ValidationIssue {
  /** Position of the object in the list given. */
  readonly index: number;
  readonly apiVersion: string;
  readonly kind: string;
  /** `namespace/name` or `name`. */
  readonly name: string;
  /** Field path, e.g. `spec.template.spec.memoryMiB`; empty for the object itself. */
  readonly path: string;
  readonly message: string;
  /**
   * A CEL rule the validator could not run: neither passed nor failed, so the object is not
   * known to be valid. `message` names the rule and why. @default false
   */
  readonly unchecked?: boolean;
}

export interface ValidateOptions {
  /** Profile whose CRD sources decide between files defining the same version. @default "cozystack-v0.37" */
  readonly profile?: ProfileName;
  /** Skip objects of built-in Kubernetes API groups, which no CRD describes. @default false */
  readonly skipBuiltIn?: boolean;
  /** Folder of CRD files. @default shared/reference/crds */
  readonly crdDir?: string;
}

interface Resolved {
  readonly crd: CrdFile;
  readonly openApi: Record<string, unknown>;
  readonly validate: ValidateFunction;
}

// Go's RE2 `(?i)` prefix (capmox tag patterns) becomes JavaScript's `i` flag.
function regExp(pattern: string, flags: string): RegExp {
  const folded = /^\^?\(\?i\)/.exec(pattern);
  return folded ? new RegExp(pattern.replace("(?i)", ""), `${flags}i`) : new RegExp(pattern, flags);
}
regExp.code = "regExp";

function listKeys(keys: string[], data: unknown): boolean {
  if (!Array.isArray(data)) return true;
  const seen = new Set(data.map((item) => JSON.stringify(keys.map((k) => (item as Record<string, unknown>)?.[k]))));
  return seen.size === data.length;
}

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false, code: { regExp } });
  addFormats.default(ajv);
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addKeyword({
    keyword: "k8sListMapKeys",
    schemaType: "array",
    validate: (keys: string[], data: unknown) => listKeys(keys, data),
    error: { message: "must not repeat a list-map key" },
  });
  ajv.addKeyword({ keyword: "k8sCel", schemaType: "array", validate: celKeyword, errors: true });
  return ajv;
}

/** Failed rules are errors; rules the evaluator cannot run are errors too, marked unchecked. */
function celKeyword(this: unknown, rules: CelRule[], data: unknown): boolean {
  const errors: Partial<ErrorObject>[] = [];
  for (const rule of rules) {
    const outcome = celOutcome(rule, data);
    if (outcome.kind === "failed") errors.push({ keyword: "k8sCel", message: outcome.message, params: {} });
    if (outcome.kind === "unchecked") {
      errors.push({ keyword: "k8sCel", message: `CEL rule not checked (${outcome.reason}): ${rule.rule}`, params: { unchecked: true } });
    }
  }
  celKeyword.errors = errors;
  return errors.length === 0;
}
celKeyword.errors = [] as Partial<ErrorObject>[];

let ajv: Ajv | undefined;
const resolved = new Map<string, Resolved | string>();

const builtInGroups = /^(|apps|batch|policy|autoscaling|networking\.k8s\.io|rbac\.authorization\.k8s\.io|storage\.k8s\.io|scheduling\.k8s\.io|coordination\.k8s\.io|discovery\.k8s\.io|node\.k8s\.io|admissionregistration\.k8s\.io|apiextensions\.k8s\.io|apiregistration\.k8s\.io|certificates\.k8s\.io|events\.k8s\.io|flowcontrol\.apiserver\.k8s\.io|resource\.k8s\.io)$/;

function pickCrd(candidates: CrdFile[], version: string, profile: ProfileName): CrdFile | undefined {
  const defining = candidates.filter((c) => crdVersion(c, version));
  const sources = Object.values(getProfile(profile).crdSources);
  return defining.find((c) => sources.some((s) => c.file.startsWith(`${s}-`))) ?? defining[0];
}

/** The compiled schema for an apiVersion/kind, or the reason there is none. */
function resolve(apiVersion: string, kind: string, options: ValidateOptions): Resolved | string {
  const profile = options.profile ?? "cozystack-v0.37";
  const key = `${options.crdDir ?? ""}|${profile}|${apiVersion}|${kind}`;
  const cached = resolved.get(key);
  if (cached) return cached;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const crd = pickCrd(findCrds(group ?? "", kind, undefined, options.crdDir), version ?? "", profile);
  const v = crd && crdVersion(crd, version ?? "");
  let result: Resolved | string;
  if (!crd || !v) result = `no CRD in shared/reference/crds defines ${kind} ${apiVersion}`;
  else if (!v.served) result = `${kind} ${apiVersion} is not served (${crd.file})`;
  else {
    ajv ??= createAjv();
    result = { crd, openApi: v.schema, validate: ajv.compile(rootSchema(v.schema)) };
  }
  resolved.set(key, result);
  return result;
}

/** One ajv error in kubectl --validate=strict's words for unknown and missing fields; the shared messages otherwise. */
function describe(object: unknown, e: ErrorObject): { path: string; message: string; unchecked?: true } | undefined {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "k8sCel" && p.unchecked === true) return { path: fieldPath(pointerSegments(e.instancePath)), message: e.message ?? "CEL rule not checked", unchecked: true };
  const problem = schemaProblem(object, e);
  if (!problem) return undefined;
  const path = fieldPath(problem.at);
  switch (problem.kind) {
    case "unknown-field":
      return { path, message: `unknown field "${path}"` };
    case "missing":
      return { path: fieldPath(problem.at.slice(0, -1)), message: `missing required field "${String(problem.at.at(-1))}"` };
    case "key":
      return { path, message: `key ${problem.message}` };
    default:
      return { path, message: problem.message };
  }
}

function scopeIssue(crd: CrdFile, object: Record<string, unknown>): string | undefined {
  const meta = object.metadata as Record<string, unknown> | undefined;
  const namespaced = loadCrd(crd).spec.scope === "Namespaced";
  return !namespaced && meta?.namespace !== undefined ? `${crd.kind} is cluster-scoped: metadata.namespace must not be set` : undefined;
}

/** Every problem of one object (index = its position in the caller's list). */
function validateOne(object: unknown, index: number, options: ValidateOptions): ValidationIssue[] {
  const o = (object ?? {}) as Record<string, unknown>;
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const apiVersion = typeof o.apiVersion === "string" ? o.apiVersion : "";
  const kind = typeof o.kind === "string" ? o.kind : "";
  const name = [meta.namespace, meta.name].filter((x) => typeof x === "string").join("/");
  const base = { index, apiVersion, kind, name };
  if (!apiVersion || !kind) return [{ ...base, path: "", message: "apiVersion and kind are required" }];
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
  if (options.skipBuiltIn && builtInGroups.test(group)) return [];
  const r = resolve(apiVersion, kind, options);
  if (typeof r === "string") return [{ ...base, path: "", message: r }];
  const issues: ValidationIssue[] = [];
  const scope = scopeIssue(r.crd, o);
  if (scope) issues.push({ ...base, path: "metadata.namespace", message: scope });
  const defaulted = withDefaults(r.openApi, o);
  if (!r.validate(defaulted)) {
    for (const e of r.validate.errors ?? []) {
      const issue = describe(defaulted, e);
      if (issue) issues.push({ ...base, ...issue });
    }
  }
  return issues;
}

/**
 * Every problem of every object, checked strictly against its CRD version. Objects with no
 * CRD here are problems too, unless `skipBuiltIn` and their group is a built-in one.
 */
export function validateObjects(objects: readonly unknown[], options: ValidateOptions = {}): ValidationIssue[] {
  return objects.flatMap((o, i) => validateOne(o, i, options));
}

/** `Kind namespace/name: path: message`, one line per issue (an unchecked CEL rule says so in its message). */
export function formatValidationIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `  ${i.kind} ${i.name || "(unnamed)"}${i.path ? `: ${i.path}` : ""}: ${i.message}`).join("\n");
}
