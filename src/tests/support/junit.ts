/**
 * Parses a JUnit XML report with a real XML parser (any well-formedness error fails the
 * parse) into plain data tests can assert on.
 */
import { DOMParser, type Element } from "@xmldom/xmldom";

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly time: string;
  readonly failure?: { readonly message: string; readonly text: string };
  readonly skipped?: string;
  readonly systemOut?: string;
  readonly systemErr?: string;
  /** The testcase's own properties (pytest's record_property form). */
  readonly properties?: Readonly<Record<string, string>>;
}

export interface JunitSuite {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, string>>;
  readonly cases: readonly JunitCase[];
}

export interface JunitReport {
  readonly attributes: Readonly<Record<string, string>>;
  readonly suites: readonly JunitSuite[];
}

function attributes(el: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const attr of Array.from(el.attributes)) out[attr.name] = attr.value;
  return out;
}

const childElements = (el: Element, tag: string): Element[] => Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).tagName === tag);

function propertyMap(props: readonly Element[]): Record<string, string> {
  return Object.fromEntries(props.map((p) => [p.getAttribute("name") ?? "", p.getAttribute("value") ?? ""]));
}

export function parseJunit(text: string): JunitReport {
  const errors: string[] = [];
  let doc;
  try {
    doc = new DOMParser({ onError: (level, message) => void errors.push(`${level}: ${message}`) }).parseFromString(text, "text/xml");
  } catch (error) {
    errors.push((error as Error).message);
  }
  if (errors.length > 0) throw new Error(`JUnit XML is not well formed:\n${errors.join("\n")}`);
  const root = doc?.documentElement;
  if (!root || root.tagName !== "testsuites") throw new Error(`JUnit root element is ${root?.tagName}, expected testsuites`);
  return {
    attributes: attributes(root),
    suites: childElements(root, "testsuite").map((suite) => {
      const props = childElements(suite, "properties").flatMap((p) => childElements(p, "property"));
      return {
        name: suite.getAttribute("name") ?? "",
        attributes: attributes(suite),
        properties: propertyMap(props),
        cases: childElements(suite, "testcase").map((tc) => {
          const failure = childElements(tc, "failure")[0];
          const skipped = childElements(tc, "skipped")[0];
          const out = childElements(tc, "system-out")[0];
          const err = childElements(tc, "system-err")[0];
          const props = childElements(tc, "properties").flatMap((p) => childElements(p, "property"));
          return {
            classname: tc.getAttribute("classname") ?? "",
            name: tc.getAttribute("name") ?? "",
            time: tc.getAttribute("time") ?? "",
            ...(failure ? { failure: { message: failure.getAttribute("message") ?? "", text: failure.textContent ?? "" } } : {}),
            ...(skipped ? { skipped: skipped.getAttribute("message") ?? "" } : {}),
            ...(out ? { systemOut: out.textContent ?? "" } : {}),
            ...(err ? { systemErr: err.textContent ?? "" } : {}),
            ...(props.length > 0 ? { properties: propertyMap(props) } : {}),
          };
        }),
      };
    }),
  };
}
