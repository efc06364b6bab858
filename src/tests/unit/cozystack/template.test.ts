import { describe, expect, it } from "vitest";
import { baseFunctions, Executor, goJson, readYaml, TemplateError, TemplateFailure } from "../../../cozystack/template/index.js";

const render = (src: string, root: unknown = {}): string => new Executor(baseFunctions()).render(src, root);

describe("Go template engine", () => {
  it("trims whitespace around {{- and -}} and drops comments", () => {
    expect(render("a  \n  {{- 1 -}}  \n b")).toBe("a1b");
    expect(render("a {{/* note */}}b")).toBe("a b");
    expect(render("x\n{{- /* trimmed */ -}}\ny")).toBe("xy");
  });

  it("declares, reassigns and scopes variables like Go", () => {
    expect(render('{{- $a := "x" }}{{- if true }}{{- $a = "y" }}{{- $b := "z" }}{{- end }}{{ $a }}')).toBe("y");
    expect(() => render("{{- if true }}{{- $b := 1 }}{{- end }}{{ $b }}")).toThrow(/undefined variable \$b/);
  });

  it("evaluates if / else if / else, with and range with break", () => {
    const t = '{{- if eq .x "a" }}A{{- else if eq .x "b" }}B{{- else }}C{{- end }}';
    expect(render(t, { x: "a" })).toBe("A");
    expect(render(t, { x: "b" })).toBe("B");
    expect(render(t, { x: "c" })).toBe("C");
    expect(render("{{ with .m }}{{ .k }}{{ else }}none{{ end }}", { m: { k: "v" } })).toBe("v");
    expect(render("{{ with .m }}{{ .k }}{{ else }}none{{ end }}", { m: {} })).toBe("none");
    expect(render("{{ range $i, $v := .l }}{{ if eq $v 3 }}{{ break }}{{ end }}{{ $i }}={{ $v }};{{ end }}", { l: [1, 2, 3, 4] })).toBe("0=1;1=2;");
    expect(render("{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }}", { m: { b: 2, a: 1 } })).toBe("a1b2");
  });

  it("prints nil as nothing and fails on index of nil, as Helm does", () => {
    expect(render("[{{ .missing }}]")).toBe("[]");
    expect(() => render('{{ index .data "x" }}', {})).toThrow(/index of untyped nil/);
    expect(() => render("{{ .a.b }}", {})).toThrow(/nil pointer evaluating \.a\.b/);
  });

  it("compares with nil as false and refuses mismatched types", () => {
    expect(render('{{ eq .none "false" }}')).toBe("false");
    expect(() => render('{{ eq 1 "1" }}')).toThrow(TemplateError);
  });

  it("short-circuits and/or so later operands are not evaluated", () => {
    expect(render("{{ if and .t .t.spec }}yes{{ else }}no{{ end }}", { t: {} })).toBe("no");
    expect(render('{{ or .a "fallback" }}', { a: "" })).toBe("fallback");
  });

  it("runs the template's own fail as TemplateFailure", () => {
    expect(() => render('{{- if not .host }}{{- fail "ERROR need root-host" }}{{- end }}')).toThrow(TemplateFailure);
    expect(() => render('{{ fail "boom" }}')).toThrow("boom");
  });

  it("implements Sprig merge semantics: mergeOverwrite replaces lists, merge fills empty values", () => {
    const root = { dst: { a: { x: 1, l: [1, 2] }, e: "", keep: "k" }, src: { a: { y: 2, l: [9] }, e: "filled", keep: "other" } };
    expect(render("{{ mergeOverwrite (deepCopy .dst) .src | toJson }}", root)).toBe(
      '{"a":{"l":[9],"x":1,"y":2},"e":"filled","keep":"other"}',
    );
    expect(render("{{ merge (deepCopy .dst) .src | toJson }}", root)).toBe('{"a":{"l":[1,2],"x":1,"y":2},"e":"filled","keep":"k"}');
  });

  it("pipes the value in as the last argument and calls methods with arguments", () => {
    const root = { Capabilities: { APIVersions: { Has: (v: unknown) => v === "x/v1" } } };
    expect(render('{{ "abc" | printf "%s-%s" "z" }}')).toBe("z-abc");
    expect(render('{{ .Capabilities.APIVersions.Has "x/v1" }} {{ .Capabilities.APIVersions.Has "y/v1" }}', root)).toBe("true false");
    expect(render('{{ dig "a" "b" "dflt" .m }}/{{ dig "a" "z" "dflt" .m }}', { m: { a: { b: "v" } } })).toBe("v/dflt");
  });

  it("writes JSON like Go's encoding/json and reads YAML 1.1 like go-yaml v2", () => {
    expect(goJson({ b: 1, a: "<&>" })).toBe('{"a":"\\u003c\\u0026\\u003e","b":1}');
    expect(readYaml("a: yes\nb: on\nc: 2001-12-14\n")).toEqual({ a: true, b: true, c: "2001-12-14" });
    expect(render("{{ toYaml .v | nindent 2 }}", { v: { b: [1], a: "x" } })).toBe("\n  a: x\n  b:\n    - 1");
  });

  it("reports unknown functions and unclosed blocks", () => {
    expect(() => render("{{ nosuch 1 }}")).toThrow(/function "nosuch" not defined/);
    expect(() => render("{{ if true }}x")).toThrow(/never closed/);
    expect(() => render("{{ end }}")).toThrow(/unexpected \{\{ end \}\}/);
  });
});
