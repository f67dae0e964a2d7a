/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) answered from the
 * file descriptors embedded in the generated code, so that grpcurl can list
 * and call the API without .proto files.
 *
 * @module
 */
import {
  create,
  createRegistry,
  type DescFile,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import {
  type ServerReflection as ReflectionV1,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  type ServerReflection as ReflectionV1alpha,
  type ServerReflectionRequest as ServerReflectionRequestV1alpha,
  ServerReflectionRequestSchema as RequestV1alphaSchema,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import type { MethodsOf, ServiceImpl } from "./grpc_adapter.ts";

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;

/** Handlers for both reflection versions. */
export interface ReflectionService {
  v1: ServiceImpl<MethodsOf<typeof ReflectionV1>>;
  v1alpha: ServiceImpl<MethodsOf<typeof ReflectionV1alpha>>;
}

/**
 * Reflection over `files` (their imports are found on their own) announcing
 * `services` by full name.
 *
 * @example
 * ```ts
 * const reflection = reflectionService([file_jobworker_v1_jobworker], ["jobworker.v1.JobWorker"]);
 * addService(server, ServerReflectionV1, reflection.v1);
 * ```
 */
export function reflectionService(
  files: DescFile[],
  services: string[],
): ReflectionService {
  const byName = new Map<string, DescFile>();
  const collect = (file: DescFile) => {
    if (byName.has(file.proto.name)) return;
    byName.set(file.proto.name, file);
    file.dependencies.forEach(collect);
  };
  files.forEach(collect);
  const registry = createRegistry(...byName.values());
  const answer = (request: ServerReflectionRequest): Response => {
    const question = request.messageRequest;
    switch (question.case) {
      case "listServices":
        return {
          messageResponse: {
            case: "listServicesResponse",
            value: { service: services.map((name) => ({ name })) },
          },
        };
      case "fileByFilename":
        return filesResponse(
          byName.get(question.value),
          `file ${question.value}`,
        );
      case "fileContainingSymbol":
        return filesResponse(
          fileOfSymbol(question.value),
          `symbol ${question.value}`,
        );
      case "allExtensionNumbersOfType":
        if (registry.getMessage(question.value)) {
          return {
            messageResponse: {
              case: "allExtensionNumbersResponse",
              value: { baseTypeName: question.value, extensionNumber: [] },
            },
          };
        }
        return notFound(`type ${question.value}`);
      case "fileContainingExtension":
        return notFound(
          `extension ${question.value.extensionNumber} of ${question.value.containingType}`,
        );
      default:
        return errorResponse(
          status.INVALID_ARGUMENT,
          "empty reflection request",
        );
    }
  };
  // A symbol is a type or service, or a method or field inside one.
  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const desc = registry.get(symbol) ??
      registry.get(symbol.replace(/\.[^.]*$/, ""));
    return desc?.file;
  };

  const v1: ReflectionService["v1"] = {
    async serverReflectionInfo(requests, send) {
      for await (const request of requests) {
        await send({
          ...answer(request),
          validHost: request.host,
          originalRequest: request,
        });
      }
    },
  };
  return {
    v1,
    // v1alpha is v1 under another package: the messages are the same on the
    // wire, so messages cross over as bytes.
    v1alpha: {
      serverReflectionInfo(requests, send, ctx) {
        return v1.serverReflectionInfo(
          asV1(requests),
          (response) =>
            send(fromBinary(
              ResponseV1alphaSchema,
              toBinary(
                ServerReflectionResponseSchema,
                create(ServerReflectionResponseSchema, response),
              ),
            )),
          ctx,
        );
      },
    },
  };
}

async function* asV1(
  requests: AsyncIterable<ServerReflectionRequestV1alpha>,
): AsyncIterable<ServerReflectionRequest> {
  for await (const request of requests) {
    yield fromBinary(
      ServerReflectionRequestSchema,
      toBinary(RequestV1alphaSchema, request),
    );
  }
}

/** The file and everything it imports, the file first. */
function filesResponse(file: DescFile | undefined, what: string): Response {
  if (!file) return notFound(what);
  const files: DescFile[] = [];
  const visit = (f: DescFile) => {
    if (files.includes(f)) return;
    files.push(f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return {
    messageResponse: {
      case: "fileDescriptorResponse",
      value: {
        fileDescriptorProto: files.map((f) =>
          toBinary(FileDescriptorProtoSchema, f.proto)
        ),
      },
    },
  };
}

function notFound(what: string): Response {
  return errorResponse(status.NOT_FOUND, `${what} not found`);
}

function errorResponse(code: status, message: string): Response {
  return {
    messageResponse: {
      case: "errorResponse",
      value: { errorCode: code, errorMessage: message },
    },
  };
}
