// google.api.http path templates, compiled into Fastify route paths and back into field values.
//
//   Template = "/" Segments [ Verb ] ;   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;   FieldPath = IDENT { "." IDENT } ;   Verb = ":" LITERAL ;
//
// `{name}` binds one segment; `{name=shelves/*/books/*}` binds several, and the field receives the matched
// path text ("shelves/1/books/2"); `**` matches the rest of the path and must come last.

export class TemplateError extends Error {
  override name = "TemplateError";
}

/** One piece of the route: a literal segment, a one-segment capture, or the rest-of-path capture. */
type Piece =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "segment"; readonly param: string }
  | { readonly kind: "rest"; readonly param: string };

/** A variable: the request field it sets and the pieces whose text makes its value. */
export interface TemplateVariable {
  /** Field path, such as ["workflow_id"] or ["parent", "name"]. */
  readonly fieldPath: readonly string[];
  /** Index range [from, to) in `pieces`. */
  readonly from: number;
  readonly to: number;
}

export interface CompiledTemplate {
  readonly template: string;
  /** The Fastify route path, such as "/workflows/v1/status/:p0/:p1". */
  readonly routePath: string;
  readonly variables: readonly TemplateVariable[];
  /** A matcher for this template, used to answer 405 (not 404) when only the method is wrong. */
  readonly pattern: RegExp;
  /** The field values bound by a matched request, from Fastify's params. */
  bind(params: Readonly<Record<string, string | undefined>>): Map<string, string>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Fastify treats ":" as a parameter and "*" as a wildcard; literals may use neither, nor characters that
// would need escaping in a URL path.
const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;

export function compileTemplate(template: string): CompiledTemplate {
  if (!template.startsWith("/")) throw new TemplateError(`path template "${template}" must start with "/"`);
  if (/:[^/}]*$/.test(template.slice(template.lastIndexOf("}") + 1))) {
    throw new TemplateError(`path template "${template}": custom verbs (":verb") are not supported`);
  }
  const pieces: Piece[] = [];
  const variables: TemplateVariable[] = [];
  let nextParam = 0;
  const pushSegments = (segments: readonly string[], insideVariable: boolean) => {
    for (const segment of segments) {
      if (segment === "*") pieces.push({ kind: "segment", param: `p${nextParam++}` });
      else if (segment === "**") pieces.push({ kind: "rest", param: "*" });
      else if (!insideVariable && segment.startsWith("{")) parseVariable(segment);
      else if (LITERAL.test(segment)) pieces.push({ kind: "literal", text: segment });
      else throw new TemplateError(`path template "${template}": bad segment "${segment}"`);
    }
  };
  const parseVariable = (segment: string) => {
    const match = /^\{([^=}]+)(?:=(.+))?\}$/.exec(segment);
    if (match === null) throw new TemplateError(`path template "${template}": bad variable "${segment}"`);
    const fieldPath = match[1]!.split(".");
    if (!fieldPath.every((p) => IDENT.test(p))) {
      throw new TemplateError(`path template "${template}": bad field path "${match[1]}"`);
    }
    const from = pieces.length;
    pushSegments(match[2] === undefined ? ["*"] : match[2].split("/"), true);
    variables.push({ fieldPath, from, to: pieces.length });
  };
  // Split on "/" outside braces: a variable's own pattern may contain "/".
  pushSegments(splitOutsideBraces(template.slice(1), template), false);

  const restIndex = pieces.findIndex((p) => p.kind === "rest");
  if (restIndex !== -1 && restIndex !== pieces.length - 1) {
    throw new TemplateError(`path template "${template}": "**" must be the last segment`);
  }
  const seen = new Set<string>();
  for (const v of variables) {
    const key = v.fieldPath.join(".");
    if (seen.has(key)) throw new TemplateError(`path template "${template}": field "${key}" bound twice`);
    seen.add(key);
  }

  const routePath =
    "/" + pieces.map((p) => (p.kind === "literal" ? p.text : p.kind === "segment" ? `:${p.param}` : "*")).join("/");
  const pattern = new RegExp(
    "^/" +
      pieces
        .map((p) => (p.kind === "literal" ? escapeRegExp(p.text) : p.kind === "segment" ? "[^/]+" : ".*"))
        .join("/") +
      "/?$",
  );
  return {
    template,
    routePath,
    variables,
    pattern,
    bind(params) {
      const values = new Map<string, string>();
      for (const v of variables) {
        const text = pieces
          .slice(v.from, v.to)
          .map((p) => (p.kind === "literal" ? p.text : (params[p.param] ?? "")))
          .join("/");
        values.set(v.fieldPath.join("."), text);
      }
      return values;
    },
  };
}

function splitOutsideBraces(path: string, template: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of path) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth < 0 || depth > 1) throw new TemplateError(`path template "${template}": unbalanced braces`);
    if (ch === "/" && depth === 0) {
      segments.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new TemplateError(`path template "${template}": unbalanced braces`);
  segments.push(current);
  if (segments.some((s) => s === "")) throw new TemplateError(`path template "${template}": empty segment`);
  return segments;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
