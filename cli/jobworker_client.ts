/**
 * A promise-based JobWorker client over grpc-js with mutual TLS 1.3. The
 * grpc-js definition is the server's own, made from the generated service
 * descriptor, so client and server cannot disagree on the wire.
 *
 * grpc-js and node:tls are loaded by {@link connect}, not when this module
 * is: `jw --help` and usage errors never pay for them (about 80 ms of the
 * ~200 ms a `jw` command takes), and a command that connects loads them
 * while Deno's TLS set-up runs on another thread ({@link warmUpTls}).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Buffer } from "node:buffer";
import {
  JobWorker,
  type KillRequestSchema,
  type KillResponse,
  type ListRequestSchema,
  type ListResponse,
  type LogsRequestSchema,
  type LogsResponse,
  type RemoveRequestSchema,
  type RemoveResponse,
  type StartRequestSchema,
  type StartResponse,
  type StatusRequestSchema,
  type StatusResponse,
  type StopRequestSchema,
  type StopResponse,
  type WaitRequestSchema,
  type WaitResponse,
  type WhoAmIResponse,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import { serviceDefinition } from "../server/service_definition.ts";
import type { Credentials } from "./credentials.ts";
import { warmUpTls } from "./warm_up_tls.ts";

/** How long a unary call may take before `jw` gives up. */
const UNARY_DEADLINE_MS = 30_000;

/**
 * The channel's waits between connection attempts once one failed: grpc-js
 * defaults to 1 s growing to 2 min, so that a `jw logs -f` whose server
 * restarted could sit a minute after it is back. These match the command's
 * own retries (resume_logs.ts); calls in between fail at once.
 */
const CHANNEL_OPTIONS = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/**
 * The TLS name sent to a server addressed by IP (grpc-js always sends one,
 * and Deno refuses an IP address as one); the server's certificate is
 * checked against the address, not this name.
 */
const IP_SNI = "jobworker-by-ip.invalid";

/** The IP address of a `HOST:PORT` (`[v6]:PORT`) address, if HOST is one. */
export function ipLiteral(address: string): string | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\]:\d+$/.exec(address);
  if (v6) return v6[1];
  const host = address.replace(/:\d+$/, "");
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? host : undefined;
}

/** The calls of the JobWorker service, as promises and async iterables. */
export interface JobWorkerClient extends Disposable {
  start(
    request: MessageInitShape<typeof StartRequestSchema>,
  ): Promise<StartResponse>;
  stop(
    request: MessageInitShape<typeof StopRequestSchema>,
  ): Promise<StopResponse>;
  kill(
    request: MessageInitShape<typeof KillRequestSchema>,
  ): Promise<KillResponse>;
  status(
    request: MessageInitShape<typeof StatusRequestSchema>,
  ): Promise<StatusResponse>;
  /**
   * The job once it has ended: waits as long as that takes (no deadline);
   * aborting `signal` cancels the call.
   */
  wait(
    request: MessageInitShape<typeof WaitRequestSchema>,
    signal?: AbortSignal,
  ): Promise<WaitResponse>;
  list(
    request: MessageInitShape<typeof ListRequestSchema>,
  ): Promise<ListResponse>;
  remove(
    request: MessageInitShape<typeof RemoveRequestSchema>,
  ): Promise<RemoveResponse>;
  whoAmI(): Promise<WhoAmIResponse>;
  /** Streams output; aborting `signal` cancels the call. */
  logs(
    request: MessageInitShape<typeof LogsRequestSchema>,
    signal?: AbortSignal,
  ): AsyncIterable<LogsResponse>;
  /** Closes the channel. */
  close(): void;
}

type UnaryMethod = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

/**
 * Opens a channel to `credentials.server`. Nothing is sent until the first
 * call; a server that cannot be reached fails that call with UNAVAILABLE.
 *
 * @example
 * ```ts
 * using client = await connect(await loadCredentials({}));
 * console.log((await client.whoAmI()).user);
 * ```
 */
export async function connect(
  credentials: Credentials,
): Promise<JobWorkerClient> {
  warmUpTls();
  const [grpc, { default: tls }] = await Promise.all([
    import("@grpc/grpc-js"),
    import("node:tls"),
  ]);
  const Client = grpc.makeGenericClientConstructor(
    serviceDefinition(JobWorker),
    "JobWorker",
  );
  const context = tls.createSecureContext({
    ca: Buffer.from(credentials.ca),
    cert: Buffer.from(credentials.cert),
    key: Buffer.from(credentials.key),
    minVersion: "TLSv1.3",
  });
  const ip = ipLiteral(credentials.server);
  const client = new Client(
    credentials.server,
    grpc.credentials.createFromSecureContext(
      context,
      // An IP address: TLS sends no name for it (Deno refuses an IP as the
      // SNI name, which grpc-js would send), and the certificate must carry
      // the address as an IP SAN.
      ip
        ? {
          checkServerIdentity: (_, cert) => tls.checkServerIdentity(ip, cert),
        }
        : {},
    ),
    ip
      ? { ...CHANNEL_OPTIONS, "grpc.ssl_target_name_override": IP_SNI }
      : CHANNEL_OPTIONS,
  ) as unknown as grpc.Client & Record<string, unknown>;

  const unary = <T>(
    name: string,
    request: unknown,
    { deadline = Date.now() + UNARY_DEADLINE_MS, signal }: {
      deadline?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      const method = client[name] as UnaryMethod;
      const cancel = () => call.cancel();
      const call = method.call(
        client,
        request,
        { deadline },
        (err, response) => {
          signal?.removeEventListener("abort", cancel);
          err ? reject(err) : resolve(response as T);
        },
      );
      signal?.addEventListener("abort", cancel, { once: true });
      if (signal?.aborted) cancel();
    });

  return {
    start: (request) => unary("start", request),
    stop: (request) => unary("stop", request),
    kill: (request) => unary("kill", request),
    status: (request) => unary("status", request),
    wait: (request, signal) =>
      unary("wait", request, { deadline: Infinity, signal }),
    list: (request) => unary("list", request),
    remove: (request) => unary("remove", request),
    whoAmI: () => unary("whoAmI", {}),
    logs: (request, signal) => logs(client, request, signal),
    close: () => client.close(),
    // At the end of a command the process exits and the kernel closes the
    // connection: nothing is gained by a graceful HTTP/2 close first.
    [Symbol.dispose]: () => {},
  };
}

async function* logs(
  client: grpc.Client & Record<string, unknown>,
  request: unknown,
  signal?: AbortSignal,
): AsyncIterable<LogsResponse> {
  const call = (client.logs as (
    request: unknown,
  ) => grpc.ClientReadableStream<LogsResponse>)
    .call(client, request);
  const cancel = () => call.cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    for await (const message of call) yield message as LogsResponse;
  } finally {
    signal?.removeEventListener("abort", cancel);
    call.cancel();
  }
}
