/** The shared reading of ajv errors: paths, values and messages, against a real ajv. */
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { fieldPath, pointerSegments, schemaProblem, valueAt } from "../../../schema-errors/index.js";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", pattern: "^[a-z]+$" },
    note: { type: ["string", "null"] },
    items: { type: "array", uniqueItems: true, items: { type: "integer", multipleOf: 2 } },
    labels: { type: "object", propertyNames: { pattern: "^[a-z]+$" } },
  },
};

function problems(doc: unknown): unknown[] {
  const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
  expect(validate(doc)).toBe(false);
  return (validate.errors ?? []).map((e) => schemaProblem(doc, e)).filter((p) => p !== undefined).map((p) => ({ kind: p.kind, at: fieldPath(p.at), value: p.value, message: p.message }));
}

describe("schema errors", () => {
  it("reads JSON pointers, escapes and indexes included, and finds the value there", () => {
    expect(pointerSegments("")).toEqual([]);
    expect(pointerSegments("/a/0/b~1c/d~0e")).toEqual(["a", 0, "b/c", "d~e"]);
    expect(valueAt({ a: [{ "b/c": 7 }] }, pointerSegments("/a/0/b~1c"))).toBe(7);
    expect(valueAt({ a: 1 }, ["a", "b"])).toBeUndefined();
    expect(fieldPath(["spec", "ports", 0, "port"])).toBe("spec.ports[0].port");
    expect(fieldPath([0, "x"], "scenario")).toBe("scenario[0].x");
  });

  it("names unknown and missing fields at the key, and values with one message per keyword", () => {
    expect(problems({ colour: "red", note: 3, items: [1, 2, 2] })).toEqual([
      { kind: "missing", at: "name", value: undefined, message: "is required" },
      { kind: "unknown-field", at: "colour", value: "red", message: "unknown field" },
      { kind: "value", at: "note", value: 3, message: "must be a string or null" },
      { kind: "value", at: "items[0]", value: 1, message: "must be a multiple of 2" },
      { kind: "value", at: "items", value: [1, 2, 2], message: "must not repeat an item (items 2 and 1 are equal)" },
    ]);
    expect(problems({ name: "Bad", items: ["x"] })).toEqual([
      { kind: "value", at: "name", value: "Bad", message: "must be a string matching ^[a-z]+$" },
      { kind: "value", at: "items[0]", value: "x", message: "must be an integer" },
    ]);
  });

  it("reports a bad key once, as the key", () => {
    expect(problems({ name: "a", labels: { Up: "x" } })).toEqual([{ kind: "key", at: "labels.Up", value: "Up", message: "must be a string matching ^[a-z]+$" }]);
  });
});
