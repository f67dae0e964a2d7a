/**
 * A small typed JobWorker client for tests, built on the same service
 * definition the server uses.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type {
  DescMessage,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import {
  JobWorker,
  type LogsResponse,
} from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { MethodsOf } from "../../server/grpc_adapter.ts";
import { serviceDefinition } from "../../server/service_definition.ts";
import type { Pem } from "../../certs/pki.ts";

type Methods = MethodsOf<typeof JobWorker>;
type UnaryName = {
  [K in keyof Methods]: Methods[K]["methodKind"] extends "unary" ? K : never;
}[keyof Methods];
type In<K extends keyof Methods> = MessageInitShape<Methods[K]["input"]>;
type Out<K extends keyof Methods> = MessageShape<
  Methods[K]["output"] & DescMessage
>;

const Client = grpc.makeGenericClientConstructor(
  serviceDefinition(JobWorker),
  "JobWorker",
);

/** A connected test client; `close()` releases the channel. */
export interface TestClient {
  call<K extends UnaryName>(method: K, request: In<K>): Promise<Out<K>>;
  /** Starts a Logs call (deadline: 60 s unless given); the caller reads or cancels it. */
  logs(
    request: In<"logs">,
    deadlineMs?: number,
  ): grpc.ClientReadableStream<LogsResponse>;
  /** Reads a whole Logs call and concatenates its data. */
  readLogs(request: In<"logs">, deadlineMs?: number): Promise<Uint8Array>;
  readonly raw: grpc.Client;
  close(): void;
}

/** Channel credentials for a client certificate (Buffers, as grpc-js wants). */
export function clientCredentials(
  ca: string,
  client: Pem,
): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(ca),
    Buffer.from(client.key),
    Buffer.from(client.cert),
  );
}

/**
 * Connects to `address` (use the host name `localhost`, which the server
 * certificate names) as the holder of `client`.
 */
export function connect(address: string, ca: string, client: Pem): TestClient {
  const raw = new Client(address, clientCredentials(ca, client));
  const deadline = () => Date.now() + 60_000;
  // deno-lint-ignore no-explicit-any
  const untyped = raw as any;
  return {
    raw,
    call(method, request) {
      return new Promise((resolve, reject) =>
        untyped[method](
          request,
          { deadline: deadline() },
          (err: unknown, res: unknown) =>
            err ? reject(err) : resolve(res as never),
        )
      );
    },
    logs(request, deadlineMs) {
      const until = deadlineMs === undefined
        ? deadline()
        : Date.now() + deadlineMs;
      return untyped.logs(request, { deadline: until });
    },
    async readLogs(request, deadlineMs) {
      const parts: Uint8Array[] = [];
      for await (const message of this.logs(request, deadlineMs)) {
        parts.push(message.data);
      }
      return concat(parts);
    },
    close() {
      raw.close();
    },
  };
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
