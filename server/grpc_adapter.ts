/**
 * The server side of the bridge between protobuf-es descriptors and grpc-js:
 * typed handlers, registered under the definition made by
 * {@link serviceDefinition}, wrapped so that every call gets a cancellation
 * signal, flow-controlled sends, the one error mapping ({@link statusFor})
 * and one log record.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type {
  GenService,
  GenServiceMethods,
} from "@bufbuild/protobuf/codegenv2";
import { JobError } from "../lib/errors.ts";
import { release } from "../lib/release.ts";
import type { Backlog } from "./backlog.ts";
import { encodeForSend, serviceDefinition } from "./service_definition.ts";
import { type GrpcStatus, statusFor } from "./status_codes.ts";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** Full method path, e.g. `/jobworker.v1.JobWorker/Start`. */
  readonly method: string;
  /** Aborted when the client cancels, disconnects or its deadline passes. */
  readonly signal: AbortSignal;
  /** DER of the verified client certificate. */
  readonly peerCertificate?: Uint8Array;
  /** Extra fields for the call's log record (peer address, identity, job id...). */
  readonly fields: Record<string, unknown>;
}

/**
 * Sends one response message; resolves when the transport can take more.
 * `written` runs once the message has been serialized and handed to HTTP/2:
 * whatever the message refers to may be reused or released from then on.
 */
export type Send<O extends DescMessage> = (
  message: MessageInitShape<O>,
  written?: () => void,
) => Promise<void>;

type Handler<M extends Pick<DescMethod, "input" | "output" | "methodKind">> =
  M["methodKind"] extends "unary" ? (
      request: MessageShape<M["input"]>,
      ctx: CallContext,
    ) => Promise<MessageInitShape<M["output"]>>
    : M["methodKind"] extends "server_streaming" ? (
        request: MessageShape<M["input"]>,
        send: Send<M["output"]>,
        ctx: CallContext,
      ) => Promise<void>
    : M["methodKind"] extends "bidi_streaming" ? (
        requests: AsyncIterable<MessageShape<M["input"]>>,
        send: Send<M["output"]>,
        ctx: CallContext,
      ) => Promise<void>
    : never;

/** Handlers for every method of a generated service, by local name. */
export type ServiceImpl<M extends GenServiceMethods> = {
  [K in keyof M]: Handler<M[K]>;
};

/** The method shapes of a generated service: `MethodsOf<typeof JobWorker>`. */
export type MethodsOf<S> = S extends GenService<infer M> ? M : never;

/** What is known of a call once it has ended. */
export interface CallRecord extends GrpcStatus {
  method: string;
  fields: Record<string, unknown>;
  durationMs: number;
}

/** Options of {@link addService}. */
export interface AdapterOptions {
  /** Called once per call when its status is known. */
  onCallEnd?: (record: CallRecord) => void;
  /** Bounds the unsent bytes of streaming responses per connection. */
  backlog?: Backlog;
}

/** Registers typed handlers for a generated service on a grpc-js server. */
export function addService<M extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<M>,
  impl: ServiceImpl<M>,
  options: AdapterOptions = {},
): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  const definition = serviceDefinition(service);
  for (const method of service.methods) {
    const handler = impl[method.localName as keyof M] as unknown as AnyHandler;
    handlers[method.localName] = wrap(service, method, handler, options);
    if (method.methodKind !== "bidi_streaming") {
      definition[method.localName].requestDeserialize = lenient(method.input);
    }
  }
  server.addService(definition, handlers);
}

/**
 * A request whose bytes are not a valid message. grpc-js answers a
 * deserializer that throws with INTERNAL; the caller sent garbage, so the
 * handler is not run and the answer is INVALID_ARGUMENT.
 */
class MalformedRequest {
  readonly message: string;
  constructor(schema: DescMessage, err: unknown) {
    this.message = `the request is not a valid ${schema.typeName}: ${
      err instanceof Error ? err.message : String(err)
    }`;
  }
}

function lenient(schema: DescMessage) {
  return (bytes: Buffer): unknown => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      return new MalformedRequest(schema, err);
    }
  };
}

// deno-lint-ignore no-explicit-any
type AnyHandler = (...args: any[]) => Promise<any>;
type AnyCall =
  & Pick<grpc.ServerUnaryCall<unknown, unknown>, "getAuthContext" | "getPeer">
  & { on(event: "cancelled", listener: () => void): unknown };

function wrap(
  service: DescService,
  method: DescMethod,
  handler: AnyHandler,
  options: AdapterOptions,
): grpc.UntypedHandleCall {
  const path = `/${service.typeName}/${method.name}`;
  const begin = (call: AnyCall) => {
    const controller = new AbortController();
    call.on("cancelled", () => controller.abort(new CancelledError()));
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    const ctx: CallContext = {
      method: path,
      signal: controller.signal,
      peerCertificate: raw ? new Uint8Array(raw) : undefined,
      fields: { peer: call.getPeer() },
    };
    const started = performance.now();
    const finish = (status: GrpcStatus) =>
      options.onCallEnd?.({
        method: path,
        fields: ctx.fields,
        ...status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    return { ctx, finish };
  };
  const failure = (err: unknown, ctx: CallContext): GrpcStatus => {
    if (ctx.signal.aborted) {
      return {
        code: grpc.status.CANCELLED,
        details: "cancelled by the client",
      };
    }
    const status = statusFor(err);
    // The client sees "internal error", or a message without the server's
    // paths; the log keeps what happened.
    if (status.code === grpc.status.INTERNAL) {
      ctx.fields.cause = err instanceof Error ? err.message : String(err);
    } else if (err instanceof Error && err.cause !== undefined) {
      const cause = err.cause;
      ctx.fields.cause = cause instanceof Error ? cause.message : String(cause);
    }
    return status;
  };

  if (method.methodKind === "unary") {
    return ((
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const { ctx, finish } = begin(call as AnyCall);
      // The answer goes out before the log line is written (a synchronous
      // write to stderr, which the caller need not wait for).
      invoke(handler, call.request, ctx).then(
        (response) => {
          callback(null, create(method.output, response));
          finish({ code: grpc.status.OK, details: "OK" });
        },
        (err) => {
          const status = failure(err, ctx);
          callback(status);
          finish(status);
        },
      );
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  const streaming = (
    call:
      | grpc.ServerWritableStream<unknown, unknown>
      | grpc.ServerDuplexStream<unknown, unknown>,
    input: unknown,
  ) => {
    const { ctx, finish } = begin(call as AnyCall);
    const send = sender(call, method.output, ctx.signal, options.backlog);
    invoke(handler, input, send, ctx).then(
      () => {
        finish({ code: grpc.status.OK, details: "OK" });
        call.end();
      },
      (err) => {
        const status = failure(err, ctx);
        finish(status);
        if (!ctx.signal.aborted) call.emit("error", status);
      },
    );
  };
  if (method.methodKind === "server_streaming") {
    return ((call: grpc.ServerWritableStream<unknown, unknown>) =>
      streaming(call, call.request)) as grpc.handleServerStreamingCall<
        unknown,
        unknown
      >;
  }
  if (method.methodKind === "bidi_streaming") {
    // Iterating a Duplex to its end destroys it, writable side included,
    // unless told not to; the answers and the status still have to go out.
    return ((call: grpc.ServerDuplexStream<unknown, unknown>) =>
      streaming(
        call,
        call.iterator({ destroyOnReturn: false }),
      )) as grpc.handleBidiStreamingCall<unknown, unknown>;
  }
  throw new Error(`${path}: client streaming is not supported`);
}

/** Calls a handler, turning a synchronous throw into a rejection. */
// deno-lint-ignore no-explicit-any
async function invoke(handler: AnyHandler, ...args: unknown[]): Promise<any> {
  if (args[0] instanceof MalformedRequest) {
    throw new JobError("invalid_argument", args[0].message);
  }
  return await handler(...args);
}

/** The reason of a call's signal when the client went away. */
export class CancelledError extends Error {
  constructor() {
    super("cancelled by the client");
    this.name = "CancelledError";
  }
}

/**
 * Messages of one call that may wait unwritten (queued in grpc-js, or held
 * back by HTTP/2 flow control). grpc-js's own limit is its Writable's 16
 * objects, which for 128 KiB chunks of job output is 2 MiB per follower.
 */
const MAX_UNWRITTEN = 2;

/**
 * Writes one message and resolves once fewer than {@link MAX_UNWRITTEN} of
 * the call's messages are still unwritten and the connection's backlog is
 * under its limit, so that callers pull their source only as fast as the
 * client reads. Once a message is written, its encoding is released at once
 * rather than left to the garbage collector.
 */
function sender(
  call:
    | grpc.ServerWritableStream<unknown, unknown>
    | grpc.ServerDuplexStream<unknown, unknown>,
  schema: DescMessage,
  signal: AbortSignal,
  backlog: Backlog | undefined,
): Send<DescMessage> {
  const peer = call.getPeer();
  let unwritten = 0;
  let wake: (() => void) | undefined;
  return async (init, written) => {
    signal.throwIfAborted();
    const message = create(schema, init);
    const encoding = encodeForSend(schema, message);
    unwritten++;
    call.write(message, () => {
      unwritten--;
      // grpc-js copied the encoding into its frame while serializing.
      release(encoding);
      written?.();
      wake?.();
    });
    await backlog?.add(peer, encoding.byteLength, signal);
    while (unwritten >= MAX_UNWRITTEN) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        wake = () => {
          signal.removeEventListener("abort", onAbort);
          wake = undefined;
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  };
}
