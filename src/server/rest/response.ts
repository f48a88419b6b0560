// A unary Connect answer -> the REST response: the message as proto3 JSON with the proto field names (every
// field present), or the Connect error body with its HTTP status. A server-streaming answer has its own
// writer (stream.ts: NDJSON or SSE), with the same JSON options and the same error body.
import { fromBinary, toJson, type DescMethod, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { FastifyReply } from "fastify";
import { HTTP_STATUS_BY_CODE } from "../errors.js";
import type { HttpBinding } from "./mapping.js";
import { HOP_HEADERS } from "./request.js";

/** Writes a unary Connect binary answer as REST JSON. */
export async function writeUnaryResponse(
  method: DescMethod,
  binding: HttpBinding,
  response: UniversalServerResponse,
  reply: FastifyReply,
): Promise<void> {
  const bytes = await readAll(response.body);
  response.header?.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) void reply.header(name, value);
  });
  if (response.status !== 200) {
    // The Connect protocol's unary error: its JSON body is already the REST error body.
    const error = JSON.parse(new TextDecoder().decode(bytes)) as JsonObject & { code?: string };
    const code = codeFromString(error.code ?? "") ?? Code.Unknown;
    await reply.code(HTTP_STATUS_BY_CODE[code]).type("application/json").send(error);
    return;
  }
  const message = fromBinary(method.output, bytes);
  let out: JsonValue = toJson(method.output, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  if (binding.responseBody !== "") out = (out as JsonObject)[binding.responseBody] ?? null;
  await reply.code(200).type("application/json").send(out);
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
