/**
 * Generators of platform.yaml texts for the loader's property tests: the built-in config with
 * random changes, broken YAML around secrets, and raw text. Every secret a generator plants is
 * a distinct marker (`Sk…`), so a test can look for it in whatever the loader printed.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { defaultConfig, toUserForm } from "../../../config/index.js";

/** A text and the secrets planted in it, which must never be printed. */
export interface Planted {
  readonly text: string;
  readonly secrets: readonly string[];
}

const marker = fc.stringMatching(/^[A-Za-z0-9]{10,16}$/).map((s) => `Sk${s}`);

/** Keys whose values count as secret wherever they appear. */
const secretKeys = ["secret", "password", "token", "apiToken", "bootstrapToken", "PASSWORD", "dbPassword"];

/** Places in the user form where a value may go (existing fields, unknown ones, free-form values). */
const places: readonly (readonly (string | number)[])[] = [
  [],
  ["proxmox"],
  ["proxmox", "tls"],
  ["proxmox", "template"],
  ["network"],
  ["cozystack"],
  ["cozystack", "values", "dashboard"],
  ["tenants", 0],
  ["tenants", 0, "controlPlane"],
  ["tenants", 0, "nodeGroups", 0],
  ["tenants", 0, "nodeGroups", 0, "labels"],
  ["stages"],
  ["stages", "timeouts"],
];

const fields: readonly (readonly (string | number)[])[] = [
  ["profile"],
  ["proxmox", "url"],
  ["proxmox", "tokenId"],
  ["proxmox", "secret"],
  ["proxmox", "bridge"],
  ["proxmox", "vlan"],
  ["proxmox", "pool"],
  ["proxmox", "allowedNodes"],
  ["proxmox", "template", "templateId"],
  ["proxmox", "template", "tags"],
  ["proxmox", "diskStorage"],
  ["proxmox", "bootDevice"],
  ["proxmox", "tls"],
  ["network", "prefix"],
  ["network", "gateway"],
  ["network", "addressRanges"],
  ["network", "dnsServers"],
  ["cozystack", "rootHost"],
  ["cozystack", "apiServerEndpoint"],
  ["cozystack", "podCidr"],
  ["cozystack", "bundleEnable"],
  ["cozystack", "values"],
  ["tenants"],
  ["tenants", 0, "name"],
  ["tenants", 0, "version"],
  ["tenants", 0, "namespace"],
  ["tenants", 0, "addressRanges"],
  ["tenants", 0, "controlPlane", "replicas"],
  ["tenants", 0, "nodeGroups"],
  ["tenants", 0, "nodeGroups", 0, "name"],
  ["tenants", 0, "nodeGroups", 0, "replicas"],
  ["tenants", 0, "nodeGroups", 0, "memoryMiB"],
  ["tenants", 0, "nodeGroups", 0, "labels"],
  ["tenants", 0, "nodeGroups", 0, "tags"],
  ["tenants", 0, "sshAuthorizedKeys"],
  ["stages", "timeouts"],
];

/** Values that are wrong in many ways: types, bounds, lengths, shapes, odd numbers. */
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e309, -1e309, Number.NaN, 2 ** 53, "", " ", "10.0.0.1", "10.0.0.0/8", "v1.32.6", "pve1", "https://pve:8006"),
    fc.integer(),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.nat({ max: 3000 }).map((n) => "a".repeat(n)),
    fc.nat({ max: 40 }).map((n) => Array.from({ length: n }, () => "abcdefghij").join(".")),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

function setAt(root: any, path: readonly (string | number)[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return;
    node[key] ??= typeof key === "number" ? [] : {};
    node = node[key];
  }
  if (node !== null && typeof node === "object" && path.length > 0) node[path[path.length - 1]!] = value;
}

function getAt(root: any, path: readonly (string | number)[]): any {
  return path.reduce((node, key) => (node !== null && typeof node === "object" ? node[key] : undefined), root);
}

/** The built-in config in user form with a few fields changed and secrets planted; valid YAML. */
export const changedConfig: fc.Arbitrary<Planted> = fc
  .record({
    changes: fc.array(fc.tuple(fc.constantFrom(...fields), anyValue), { maxLength: 4 }),
    secrets: fc.array(
      fc.record({
        place: fc.constantFrom(...places),
        key: fc.constantFrom(...secretKeys),
        secret: marker,
        nested: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    userinfo: fc.option(
      fc.record({
        field: fc.constantFrom(["proxmox", "url"], ["cozystack", "apiServerEndpoint"], ["tenants", 0, "nodeGroups", 0, "labels", "x"]),
        user: fc.option(marker, { nil: undefined }),
        password: marker,
        rest: fc.constantFrom("pve.example.com:8006", "10.0.0.10:6443", "host:8006/api2/json", "h:1?x=1"),
      }),
      { nil: undefined },
    ),
    aliases: fc.boolean(),
  })
  .map(({ changes, secrets, userinfo, aliases }) => {
    const raw = structuredClone(toUserForm(defaultConfig())) as any;
    for (const [path, value] of changes) setAt(raw, path, structuredClone(value));
    const planted: string[] = [];
    for (const s of secrets) {
      const place = getAt(raw, s.place);
      if (place === null || typeof place !== "object" || Array.isArray(place)) continue;
      place[s.key] = s.nested ? { value: s.secret, list: [s.secret] } : s.secret;
      planted.push(s.secret);
    }
    if (userinfo) {
      setAt(raw, userinfo.field, `https://${userinfo.user ?? "root"}:${userinfo.password}@${userinfo.rest}`);
      planted.push(userinfo.password, ...(userinfo.user ? [userinfo.user] : []));
    }
    // aliasDuplicateObjects: repeated objects become anchors and aliases, as a user may write them
    return { text: stringify(raw, { aliasDuplicateObjects: aliases, lineWidth: 0 }), secrets: planted };
  });

/** Broken YAML right around a secret: the mistakes a hand-edited file has. */
const brokenAround: readonly ((s: string) => string)[] = [
  (s) => `secret: > ${s}`,
  (s) => `secret: "${s}`,
  (s) => `secret: '${s}`,
  (s) => `secret: [${s}`,
  (s) => `secret: {${s}`,
  (s) => `secret: {${s}}`,
  (s) => `secret: ${s}: x`,
  (s) => `secret: ${s}\n  \tpassword: ${s}`,
  (s) => `password: !!int ${s}`,
  (s) => `token: &a ${s}\n  token: *a`,
  (s) => `secret: | ${s}`,
  (s) => `secret:\n- ${s}\n  - ${s}`,
  (s) => `secret: "\\q${s}"`,
  (s) => `secret: @${s}`,
  (s) => `secret: \`${s}\``,
  (s) => `url: https://root:${s}@pve:8006 ]`,
  (s) => `url: "https://root:${s}@pve:8006`,
  (s) => `secret: ${s}\n---\nsecret: ${s}`,
  (s) => `secret: {env: ${s}, file: [${s}}`,
];

/** The built-in config's text with one line replaced by broken YAML around a secret. */
export const brokenAroundSecret: fc.Arbitrary<Planted> = fc
  .record({ line: fc.nat(), indent: fc.constantFrom("", "  ", "    "), template: fc.constantFrom(...brokenAround), secret: marker })
  .map(({ line, indent, template, secret }) => {
    const lines = stringify(toUserForm(defaultConfig())).split("\n");
    const at = line % lines.length;
    const broken = template(secret).split("\n").map((l) => indent + l);
    return { text: [...lines.slice(0, at), ...broken, ...lines.slice(at + 1)].join("\n"), secrets: [secret] };
  });

/** Text with YAML's special characters, and edits of a valid config: any document at all. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."ab1 -:?[]{},&*!|>'\"%@`#\n\t\\."), maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .record({ cut: fc.nat(), length: fc.nat({ max: 30 }), insert: fc.string({ unit: fc.constantFrom(..."\n :-[]{}&*!\"'#\t"), maxLength: 6 }) })
    .map(({ cut, length, insert }) => {
      const text = stringify(toUserForm(defaultConfig()));
      const at = cut % text.length;
      return text.slice(0, at) + insert + text.slice(at + length);
    }),
);

/** Valid configs: a few tenants, sizes and labels, with a secret in free-form Helm values (allowed, never printed). */
export const validConfig: fc.Arbitrary<Planted> = fc
  .record({
    tenants: fc.nat({ max: 3 }),
    replicas: fc.nat({ max: 5 }),
    memoryMiB: fc.integer({ min: 64, max: 4096 }).map((n) => n * 8),
    label: fc.stringMatching(/^[a-z0-9]{1,20}$/),
    secret: marker,
  })
  .map(({ tenants, replicas, memoryMiB, label, secret }) => {
    const raw = structuredClone(toUserForm(defaultConfig())) as any;
    const template = raw.tenants[0];
    raw.tenants = Array.from({ length: tenants }, (_, i) => ({
      ...structuredClone(template),
      name: `t${i}`,
      namespace: `tenant-t${i}`,
      addressRanges: [{ start: `10.0.0.${100 + i * 10}`, end: `10.0.0.${109 + i * 10}` }],
      nodeGroups: [{ name: "workers", replicas, memoryMiB, labels: { "example.com/role": label } }],
    }));
    raw.cozystack.values = { dashboard: { password: secret } };
    return { text: stringify(raw), secrets: [secret] };
  });
