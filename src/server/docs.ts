// The REST API's description: GET /openapi.json serves the OpenAPI 3.1 document that `npm run generate`
// writes from the contract (openapi/flowgate.openapi.json, by scripts/protoc-gen-openapi.ts), and /docs a
// Swagger UI page that reads it. The UI's files come from the swagger-ui-dist package and are served from
// here, so the page works where browsers cannot reach a CDN. Both are the "docs" platform part: public
// unless FLOWGATE_AUTH_PUBLIC says otherwise.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance } from "fastify";

const DOCUMENT_URLS = [new URL("../../openapi/flowgate.openapi.json", import.meta.url), new URL("../../../openapi/flowgate.openapi.json", import.meta.url)];
const UI_FILES: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flowgate REST API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// In a file of its own rather than inline, so a Content-Security-Policy without 'unsafe-inline' allows it.
const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true, tryItOutEnabled: false });\n`;

/** The committed document, from the source tree or the installed package (dist/src/server → ../../..). */
async function readDocument(): Promise<Buffer> {
  for (const url of DOCUMENT_URLS) {
    try {
      return await readFile(url);
    } catch {
      // the other layout
    }
  }
  throw new Error(`the OpenAPI document is missing (looked for ${DOCUMENT_URLS.map((u) => u.pathname).join(", ")}); run npm run generate`);
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const document = await readDocument();
  const uiDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const config = { access: { platform: "docs" as const } };
  app.get("/openapi.json", { config }, async (_req, reply) => reply.type("application/json; charset=utf-8").send(document));
  app.get("/docs", { config }, async (_req, reply) => reply.type("text/html; charset=utf-8").send(PAGE));
  app.get("/docs/init.js", { config }, async (_req, reply) => reply.type("text/javascript; charset=utf-8").send(INIT));
  for (const [file, type] of Object.entries(UI_FILES)) {
    const body = await readFile(path.join(uiDir, file));
    app.get(`/docs/${file}`, { config }, async (_req, reply) => reply.type(type).header("cache-control", "public, max-age=86400").send(body));
  }
}
