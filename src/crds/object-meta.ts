/**
 * ObjectMeta as the API server checks it: CRD schemas leave `metadata` open (`type: object`),
 * so strict validation needs this schema for the root and for embedded resources.
 */
type Schema = Record<string, unknown>;

const dnsSubdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const dnsLabel = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const labelKey = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
const labelValue = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

const ownerReference: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "name", "uid"],
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    name: { type: "string" },
    uid: { type: "string" },
    controller: { type: "boolean" },
    blockOwnerDeletion: { type: "boolean" },
  },
};

/** The ObjectMeta schema; `root` objects must have a name (or generateName). */
export function objectMetaSchema(root: boolean): Schema {
  return {
    type: "object",
    additionalProperties: false,
    ...(root ? { anyOf: [{ required: ["name"] }, { required: ["generateName"] }] } : {}),
    properties: {
      name: { type: "string", maxLength: 253, pattern: dnsSubdomain },
      generateName: { type: "string" },
      namespace: { type: "string", maxLength: 63, pattern: dnsLabel },
      labels: {
        type: "object",
        propertyNames: { maxLength: 317, pattern: labelKey },
        additionalProperties: { type: "string", maxLength: 63, pattern: labelValue },
      },
      annotations: { type: "object", additionalProperties: { type: "string" } },
      ownerReferences: { type: "array", items: ownerReference },
      finalizers: { type: "array", items: { type: "string" } },
      uid: { type: "string" },
      resourceVersion: { type: "string" },
      generation: { type: "integer" },
      creationTimestamp: { type: ["string", "null"] },
      deletionTimestamp: { type: "string" },
      deletionGracePeriodSeconds: { type: "integer" },
      managedFields: { type: "array", items: { type: "object" } },
      selfLink: { type: "string" },
    },
  };
}
