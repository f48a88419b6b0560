// gRPC server reflection (grpc.reflection.v1 and v1alpha), so `grpcurl list`, `grpcurl describe` and
// `buf curl` work without a copy of the protos. The answers come from the same descriptors that are served.
import { createRegistry, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServedService } from "./router.js";

/** Both versions share one message shape; this is that shape, as far as the answers need it. */
type ReflectionRequest = {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
};

type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** Indexes the served services' files (with every transitive import) by file name and symbol. */
class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly registry;

  constructor(readonly services: readonly DescService[]) {
    const visit = (file: DescFile) => {
      if (this.files.has(file.name)) return;
      this.files.set(file.name, file);
      file.dependencies.forEach(visit);
    };
    services.forEach((s) => visit(s.file));
    this.registry = createRegistry(...this.files.values());
  }

  answer(req: ReflectionRequest, sent: Set<string>): ReflectionAnswer {
    const { messageRequest: m } = req;
    switch (m.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services.map((s) => ({ name: s.typeName })) } };
      case "fileByFilename": {
        const file = this.files.get(m.value);
        return file ? this.fileAnswer(file, sent) : notFound(`file "${m.value}" not found`);
      }
      case "fileContainingSymbol": {
        const file = this.fileOfSymbol(m.value);
        return file ? this.fileAnswer(file, sent) : notFound(`symbol "${m.value}" not found`);
      }
      case "fileContainingExtension": {
        const ext = [...this.registry].find(
          (d) => d.kind === "extension" && d.extendee.typeName === m.value.containingType && d.number === m.value.extensionNumber,
        );
        return ext ? this.fileAnswer(ext.file, sent) : notFound(`extension ${m.value.extensionNumber} of "${m.value.containingType}" not found`);
      }
      case "allExtensionNumbersOfType": {
        if (this.registry.getMessage(m.value) === undefined) return notFound(`type "${m.value}" not found`);
        const numbers = [...this.registry].flatMap((d) => (d.kind === "extension" && d.extendee.typeName === m.value ? [d.number] : []));
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: m.value, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: INVALID_ARGUMENT, errorMessage: "empty reflection request" } };
    }
  }

  private fileOfSymbol(symbol: string): DescFile | undefined {
    const direct = this.registry.get(symbol);
    if (direct !== undefined) return direct.file;
    // A method ("pkg.Service.Method") or a field / enum value: its parent's file.
    const parent = symbol.slice(0, Math.max(0, symbol.lastIndexOf(".")));
    return parent === "" ? undefined : this.registry.get(parent)?.file;
  }

  /** The file and the imports this stream has not sent yet, as grpc-go's reflection does. */
  private fileAnswer(file: DescFile, sent: Set<string>): ReflectionAnswer {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (sent.has(f.name)) return;
      sent.add(f.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    sent.delete(file.name); // the asked-for file is always sent
    visit(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  }
}

function notFound(errorMessage: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: NOT_FOUND, errorMessage } };
}

/** Both reflection versions, as services; `served` lists the other services on the port (reflection adds itself). */
export function reflectionServices(served: readonly DescService[]): ServedService[] {
  const index = new ReflectionIndex([...served, ServerReflectionV1, ServerReflectionV1Alpha]);
  const implementation = {
    async *serverReflectionInfo(requests: AsyncIterable<ReflectionRequest>) {
      const sent = new Set<string>();
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req, sent) };
      }
    },
  };
  // The two versions' generated types differ only in package name; their shapes are the same.
  const shared = implementation as unknown as ServedService["implementation"];
  return [
    { service: ServerReflectionV1, implementation: shared },
    { service: ServerReflectionV1Alpha, implementation: shared },
  ];
}
