// The REST API's description: GET /openapi.json serves the OpenAPI 3.1 document that `npm run generate`
// writes from the contract (openapi/flowgate.openapi.json, by scripts/protoc-gen-openapi.ts), and /docs a
// Swagger UI page that reads it. The UI's files come from the swagger-ui-dist package and are served from
// here, so the page works where browsers cannot reach a CDN. Both are the "docs" platform part: public
// unless FLOWGATE_AUTH_PUBLIC says otherwise.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyInstance } from "fastify";

const DOCUMENT_URLS = [new URL("../../openapi/flowgate.openapi.json", import.meta.url), new URL("../../../openapi/flowgate.openapi.json", import.meta.url)];
const UI_FILES: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

/**
 * The page, with every URL relative to it, so it works behind a proxy that serves Flowgate under a path
 * prefix: from ".../docs" the files are "docs/...", from ".../docs/" they are "...".
 */
function page(assets: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flowgate REST API</title>
<link rel="stylesheet" href="${assets}swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="${assets}swagger-ui-bundle.js"></script>
<script src="${assets}init.js"></script>
</body>
</html>
`;
}

// In a file of its own rather than inline, so a Content-Security-Policy without 'unsafe-inline' allows it.
// The document's URL is relative to the page: "openapi.json" beside ".../docs".
const INIT = `window.ui = SwaggerUIBundle({ url: new URL(location.pathname.endsWith("/") ? "../openapi.json" : "openapi.json", location.href).href, dom_id: "#docs", deepLinking: true, tryItOutEnabled: false });\n`;

/** The committed document, from the source tree or the installed package (dist/src/server → ../../..). */
async function readDocument(): Promise<Buffer | undefined> {
  for (const url of DOCUMENT_URLS) {
    try {
      return await readFile(url);
    } catch {
      // the other layout
    }
  }
  return undefined;
}

/** The UI's files, or undefined where swagger-ui-dist is not installed (an image that pruned it). */
async function readUi(): Promise<Map<string, Buffer> | undefined> {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    return new Map(await Promise.all(Object.keys(UI_FILES).map(async (file) => [file, await readFile(path.join(dir, file))] as const)));
  } catch {
    return undefined;
  }
}

/**
 * The docs routes. A deployment that left out the document or the UI's files still starts: it logs which, and
 * those routes answer not_found saying so.
 */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const [document, ui] = await Promise.all([readDocument(), readUi()]);
  if (document === undefined) app.log.warn(`no OpenAPI document (looked for ${DOCUMENT_URLS.map((u) => u.pathname).join(", ")}): GET /openapi.json answers not_found`);
  if (ui === undefined) app.log.warn("swagger-ui-dist is not installed: /docs answers not_found");
  const missing = (what: string) => new ConnectError(`${what} is not installed with this server`, Code.NotFound);
  const config = { access: { platform: "docs" as const } };
  app.get("/openapi.json", { config }, async (_req, reply) => {
    if (document === undefined) throw missing("the OpenAPI document");
    return reply.type("application/json; charset=utf-8").send(document);
  });
  app.get("/docs", { config }, async (req, reply) => {
    if (ui === undefined) throw missing("the docs page (swagger-ui-dist)");
    return reply.type("text/html; charset=utf-8").send(page(req.url.split("?")[0]!.endsWith("/") ? "" : "docs/"));
  });
  app.get("/docs/init.js", { config }, async (_req, reply) => reply.type("text/javascript; charset=utf-8").send(INIT));
  for (const [file, type] of Object.entries(UI_FILES)) {
    app.get(`/docs/${file}`, { config }, async (_req, reply) => {
      const body = ui?.get(file);
      if (body === undefined) throw missing("the docs page (swagger-ui-dist)");
      return reply.type(type).header("cache-control", "public, max-age=86400").send(body);
    });
  }
}
