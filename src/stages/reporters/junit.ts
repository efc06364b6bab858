/**
 * JUnit XML in the shape CI systems (GitLab, Jenkins, GitHub test reporters, Azure) ingest
 * as is: one `<testsuite>` per stage, one `<testcase>` per check, `<failure>` carrying the
 * reason and the fix, `<skipped>` carrying why, and the stage's timings and measured figures
 * as suite `<property>` elements (the only place the common schemas allow them).
 */
import type { CheckResult, RunResult, StageResult } from "../model.js";
import { tally } from "../model.js";

/** Escapes text for XML and drops characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function suiteName(stage: StageResult): string {
  return typeof stage.stage === "number" ? `stage ${stage.stage}: ${stage.title}` : `${stage.stage}: ${stage.title}`;
}

function className(stage: StageResult): string {
  return typeof stage.stage === "number" ? `stage${stage.stage}` : String(stage.stage);
}

function testcase(stage: StageResult, check: CheckResult): string {
  const open = `    <testcase classname="${xmlEscape(className(stage))}" name="${xmlEscape(`${check.id}: ${check.title}`)}" time="${seconds(check.durationMs)}"`;
  const out: string[] = [];
  if (check.verdict === "failed") {
    const body = `${check.reason ?? ""}\n\nWhat to do: ${check.fix ?? ""}`;
    out.push(`      <failure message="${xmlEscape(check.reason ?? "")}" type="CheckFailed">${xmlEscape(body)}</failure>`);
  } else if (check.verdict === "skipped") {
    out.push(`      <skipped message="${xmlEscape(check.reason ?? "")}"/>`);
  } else if (check.verdict === "warning") {
    // JUnit has no warning outcome: the case passes, and carries its mark as a testcase property
    // (as pytest's record_property writes it) and the warning itself on system-err.
    out.push('      <properties><property name="verdict" value="warning"/></properties>');
    out.push(`      <system-err>${xmlEscape(`WARNING: ${check.reason ?? ""}\n\nWhat to do: ${check.fix ?? ""}`)}</system-err>`);
  }
  const lines = [
    ...(check.detail ? [check.detail] : []),
    ...Object.entries(check.figures).map(([k, v]) => `${k}=${v}`),
  ];
  if (lines.length > 0) out.push(`      <system-out>${xmlEscape(lines.join("\n"))}</system-out>`);
  return out.length === 0 ? `${open}/>` : `${open}>\n${out.join("\n")}\n    </testcase>`;
}

/** A stage that did not run becomes one skipped testcase, so CI shows it and never counts it as passed. */
function placeholder(stage: StageResult): string {
  const what = "not run";
  return [
    `    <testcase classname="${xmlEscape(className(stage))}" name="${xmlEscape(`stage ${stage.stage} ${what}`)}" time="0.000">`,
    `      <skipped message="${xmlEscape(stage.reason ?? what)}"/>`,
    "    </testcase>",
  ].join("\n");
}

function suite(stage: StageResult, id: number): string {
  const counts = tally(stage.checks);
  const ran = stage.checks.length > 0;
  const tests = ran ? stage.checks.length : 1;
  const skipped = ran ? counts.skipped : 1;
  const props: [string, string][] = [
    ["stage.verdict", stage.verdict],
    ["stage.durationMs", String(stage.durationMs)],
    ["stage.warnings", String(counts.warning)],
    ...(stage.reason ? ([["stage.reason", stage.reason]] as [string, string][]) : []),
    ...Object.entries(stage.figures).map(([k, v]) => [k, String(v)] as [string, string]),
  ];
  const attrs = [
    `name="${xmlEscape(suiteName(stage))}"`,
    `id="${id}"`,
    `tests="${tests}"`,
    `failures="${counts.failed}"`,
    `errors="0"`,
    `skipped="${skipped}"`,
    `time="${seconds(stage.durationMs)}"`,
    ...(stage.startedAt ? [`timestamp="${stage.startedAt.replace(/\.\d+Z$/, "Z").replace(/Z$/, "")}"`] : []),
  ];
  return [
    `  <testsuite ${attrs.join(" ")}>`,
    "    <properties>",
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    "    </properties>",
    ...(ran ? stage.checks.map((c) => testcase(stage, c)) : [placeholder(stage)]),
    "  </testsuite>",
  ].join("\n");
}

export function renderJunit(run: RunResult, name = "cozy-proxmox validation"): string {
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const stage of run.stages) {
    const counts = tally(stage.checks);
    tests += stage.checks.length || 1;
    failures += counts.failed;
    skipped += stage.checks.length ? counts.skipped : 1;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(run.durationMs)}">`,
    ...run.stages.map((s, i) => suite(s, i)),
    "</testsuites>",
    "",
  ].join("\n");
}
