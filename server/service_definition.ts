/**
 * The grpc-js definition of a protobuf-es service, made from its generated
 * descriptor (messages cross the wire with toBinary/fromBinary), so that
 * the server and `jw` cannot disagree on the wire. Only types come from
 * grpc-js here: `jw` loads grpc-js itself, later (cli/jobworker_client.ts).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";

type AnyMessage = MessageShape<DescMessage>;

/**
 * The grpc-js definition of a protobuf-es service; serves servers and
 * clients (`grpc.makeGenericClientConstructor`) alike.
 *
 * @example
 * ```ts
 * server.addService(serviceDefinition(JobWorker), handlers);
 * ```
 */
export function serviceDefinition(
  service: DescService,
): grpc.ServiceDefinition {
  const definition: Record<
    string,
    grpc.MethodDefinition<AnyMessage, AnyMessage>
  > = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" ||
        method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" ||
        method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition;
}

/**
 * Encodings made by a sender before it hands its message to grpc-js, so that
 * it knows their size at once; the serializer then returns them as they are.
 */
const encodings = new WeakMap<object, Uint8Array>();

/**
 * Encodes `message` now and has the serializer use these bytes when grpc-js
 * writes it (grpc-js serializes after `write()` returns).
 */
export function encodeForSend(
  schema: DescMessage,
  message: AnyMessage,
): Uint8Array {
  const bytes = toBinary(schema, message);
  encodings.set(message, bytes);
  return bytes;
}

function serializer(schema: DescMessage) {
  // create() returns a message of this schema as it is and builds one from a
  // plain init object, so clients may pass either.
  return (message: AnyMessage) => {
    const bytes = encodings.get(message) ??
      toBinary(schema, create(schema, message));
    encodings.delete(message);
    // A view, not a copy: chunks of job output are large.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}
