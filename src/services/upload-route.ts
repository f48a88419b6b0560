// UploadFile over REST: POST /workflows/v1/file as multipart/form-data, the form field "file" (the seed's
// path, for browsers and curl). A client-streaming RPC has no REST form the transcoder can derive, so this
// route feeds the same file store the RPC does, streaming the part through without holding it.
import { create, toJson } from "@bufbuild/protobuf";
import { UploadFileResponseSchema } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { FileTooLargeError, InvalidUploadError, type FileStore } from "../files/index.js";
import { restError } from "../server/index.js";

export interface UploadRouteOptions {
  readonly files: FileStore;
  readonly maxBytes: number;
}

/** A Fastify plugin: register it in its own scope, since it sets that scope's body parsing. */
export async function uploadRoute(scope: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  // One file, a few small fields; busboy's own size limit is one past ours, so the store's count decides.
  await scope.register(multipart, { limits: { files: 1, fields: 10, fieldSize: 64 * 1024, fileSize: options.maxBytes + 1 } });

  scope.post("/workflows/v1/file", { config: { access: { scope: "workflows.write" }, streamsBody: true } }, async (req, reply) => {
    if (!req.isMultipart()) throw new InvalidUploadError('request body: must be multipart/form-data with the file in the field "file"');
    let part;
    try {
      part = await req.file();
    } catch (err) {
      // busboy's refusals of the body (no boundary, a malformed part header, a cut-off form) are the client's.
      if (err instanceof Error && !(err instanceof FileTooLargeError)) throw new InvalidUploadError(`request body: not valid multipart/form-data (${err.message})`);
      throw err;
    }
    if (part === undefined) throw new InvalidUploadError('file: the form has no file (send it in the field "file")');
    if (part.fieldname !== "file") throw new InvalidUploadError(`file: the form's file is in the field "${part.fieldname}", not "file"`);
    // The client going away aborts the store's write, which then keeps nothing.
    const gone = new AbortController();
    const onClose = () => req.raw.complete || gone.abort(new InvalidUploadError("file: the upload was cut off before its end; nothing was stored"));
    req.raw.once("close", onClose);
    // A form that breaks off or goes wrong after the part began fails the part's stream: the client's mistake too.
    let malformed: unknown;
    part.file.once("error", (err) => (malformed = err));
    try {
      const stored = await options.files.put({ filename: part.filename, contentType: part.mimetype }, part.file, gone.signal);
      // UploadFileResponse in the REST layer's JSON form (proto field names, int64 as a string).
      const answer = create(UploadFileResponseSchema, { ...stored, size: BigInt(stored.size) });
      return await reply.code(200).send(toJson(UploadFileResponseSchema, answer, { useProtoFieldName: true, alwaysEmitImplicit: true }));
    } catch (err) {
      // Mapped as everywhere, but a body over the limit is 413 on REST, as any other too-large body is
      // (DESIGN.md's error table); every other failure goes to the server's error handler.
      // The store may wrap the stream's error in its own; the form's failure is what happened either way.
      if (malformed instanceof Error && !(err instanceof FileTooLargeError) && !(err instanceof InvalidUploadError)) {
        throw new InvalidUploadError(`request body: not valid multipart/form-data (${malformed.message})`);
      }
      if (!(err instanceof FileTooLargeError)) throw err;
      const { status, body } = restError(scope.flowgate.errors.toConnectError(err), 413);
      return reply.code(status).type("application/json").send(body);
    } finally {
      req.raw.off("close", onClose);
    }
  });
}
