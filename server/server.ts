/**
 * The gRPC server: JobWorker, health and reflection over mutual TLS 1.3,
 * one log line per call, and an orderly shutdown.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Health } from "../gen/grpc/health/v1/health_pb.ts";
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection as ReflectionV1,
} from "../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  file_grpc_reflection_v1alpha_reflection,
  ServerReflection as ReflectionV1alpha,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.ts";
import {
  file_jobworker_v1_jobworker,
  JobWorker,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import type { TLSSocket } from "node:tls";
import { DEFAULT_GRACE_MS, type JobRuntime } from "../lib/mod.ts";
import { Backlog } from "./backlog.ts";
import { addService, type CallRecord } from "./grpc_adapter.ts";
import { guardConnections } from "./connection_guard.ts";
import { healthService } from "./health.ts";
import { identityFromCertificate } from "./identity.ts";
import { Admission, parseCaBundle } from "./admission.ts";
import { type LogSink, silentLog, throttledLog } from "./log.ts";
import { reflectionService } from "./reflection.ts";
import { jobWorkerService } from "./service.ts";
import type { Metrics } from "./metrics.ts";
import { readRevocationList, Revocations } from "./revocation.ts";
import { checkTlsFiles } from "./tls_reload.ts";
import {
  MutualTlsCredentials,
  onSessions,
  tlsListeners,
  type TlsPem,
  trackConnections,
} from "./tls.ts";

/** How to run a {@link JobServer}. */
export interface ServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  tls: TlsPem;
  /** The runtime served; the server closes it when it closes. */
  runtime: JobRuntime;
  log?: LogSink;
  /** Counts what the server does (see Metrics); its counters move with the log. */
  metrics?: Metrics;
  /**
   * Most connections open at once (default 256; main.ts derives it from the
   * open-file limit with `connectionCap`).
   */
  maxConnections?: number;
  /** Most connections one user may have open (default 64). */
  maxConnectionsPerUser?: number;
  /** How long a client may take to finish the TLS handshake (default 10 s). */
  handshakeTimeoutMs?: number;
}

/** Refused connections logged per second at most. */
const REFUSALS_LOGGED_PER_SECOND = 10;

/** Streams one HTTP/2 connection may have open at once. */
const MAX_STREAMS_PER_CONNECTION = 1000;

/** Options of {@link JobServer.close}. */
export interface CloseOptions {
  /** Grace of running jobs between SIGTERM and SIGKILL. */
  graceMs?: number;
  /**
   * Leave running jobs running for the next server to re-adopt (their
   * followers' streams are cut after `drainMs`), instead of stopping them.
   */
  keepJobs?: boolean;
  /** How long in-flight calls may take once the jobs are over. */
  drainMs?: number;
  /**
   * Close the connections at once, without an HTTP/2 GOAWAY, once the jobs
   * are over, instead of draining them. Tests, whose clients share the
   * server's process, use this: no client then has a GOAWAY to handle.
   */
  abortConnections?: boolean;
}

/** A listening server. */
export interface JobServer {
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting, reports NOT_SERVING, stops running jobs with their
   * grace, lets in-flight calls finish (cancelling what is left after
   * `drainMs`) and closes the runtime.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * Serves new connections with `pem` once it passed checkTlsFiles; open
   * connections and jobs carry on. Throws (and changes nothing) when it did
   * not.
   */
  reloadTls(pem: TlsPem): Promise<void>;
  /** Certificates the revocation list in force lists. */
  revoked(): number;
}

const SERVICES = [
  JobWorker.typeName,
  Health.typeName,
  ReflectionV1.typeName,
  ReflectionV1alpha.typeName,
];

/**
 * Starts serving.
 *
 * @example
 * ```ts
 * const server = await startServer({ listen: "127.0.0.1:50051", tls, runtime, log: stderrLog() });
 * Deno.addSignalListener("SIGTERM", () => server.close());
 * ```
 */
export async function startServer(options: ServerOptions): Promise<JobServer> {
  const metrics = options.metrics;
  const log = metrics
    ? metrics.observing(options.log ?? silentLog)
    : options.log ?? silentLog;
  const onCallEnd = (record: CallRecord) =>
    log({
      msg: "rpc",
      method: record.method,
      ...record.fields,
      code: grpc.status[record.code],
      ...(record.code === grpc.status.OK ? {} : { error: record.details }),
      durationMs: record.durationMs,
    });
  const revocations = new Revocations(
    options.tls.crl
      ? await readRevocationList(options.tls.crl, options.tls.ca)
      : undefined,
  );
  const admission = new Admission({
    cas: parseCaBundle(options.tls.ca),
    revocations,
  });
  // Refused connections: a few lines a second, the rest counted in them.
  const refusals = throttledLog(log, REFUSALS_LOGGED_PER_SECOND);
  const server = new grpc.Server({
    "grpc.max_concurrent_streams": MAX_STREAMS_PER_CONNECTION,
    interceptors: [admission.interceptor],
  });
  const health = healthService(SERVICES);
  const reflection = reflectionService(
    [
      file_jobworker_v1_jobworker,
      file_grpc_health_v1_health,
      file_grpc_reflection_v1_reflection,
      file_grpc_reflection_v1alpha_reflection,
    ],
    SERVICES,
  );
  const backlog = new Backlog();
  addService(
    server,
    JobWorker,
    jobWorkerService(options.runtime, {
      checkCertificate: (der) => revocations.check(der),
      streamed: metrics && ((stream, bytes) => metrics.streamed(stream, bytes)),
    }),
    {
      onCallEnd,
      backlog,
    },
  );
  addService(server, Health, health.impl, { onCallEnd });
  addService(server, ReflectionV1, reflection.v1, { onCallEnd });
  addService(server, ReflectionV1alpha, reflection.v1alpha, { onCallEnd });

  const credentials = new MutualTlsCredentials(
    options.tls,
    options.handshakeTimeoutMs,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      options.listen,
      credentials,
      (err, port) => err ? reject(err) : resolve(port),
    )
  );
  guardConnections(server, {
    maxConnections: options.maxConnections ?? 256,
    maxConnectionsPerUser: options.maxConnectionsPerUser,
    userOf: (socket) => {
      if (admission.verdictOf(socket)) return undefined;
      const raw = socket.getPeerCertificate()?.raw;
      try {
        return identityFromCertificate(raw && new Uint8Array(raw)).user;
      } catch {
        return undefined; // its calls are refused (PERMISSION_DENIED)
      }
    },
    refusals,
  });
  admission.watch(tlsListeners(server), (refusal, client) =>
    refusals({
      msg: "connection refused",
      reason: refusal.reason,
      error: refusal.message,
      ...(refusal.subject ? { subject: refusal.subject } : {}),
      ...(refusal.serial ? { serial: refusal.serial } : {}),
      ...(client ? { client } : {}),
    }));
  const connections = trackConnections(server);
  onSessions(server, (session) => backlog.track(session.socket as TLSSocket));
  log({
    msg: "listening",
    address: options.listen,
    port,
    maxConnections: options.maxConnections ?? 256,
  });

  let closing: Promise<void> | undefined;
  const close = async (
    {
      graceMs = DEFAULT_GRACE_MS,
      keepJobs = false,
      drainMs = keepJobs ? 1_000 : 5_000,
      abortConnections = false,
    }: CloseOptions = {},
  ) => {
    log({ msg: "shutting down", keepJobs });
    health.shutdown();
    // Jobs first: their followers' Logs streams then end normally, before
    // the server sends GOAWAY. Kept jobs' streams are cut after drainMs.
    const running = options.runtime.list()
      .filter((job) => job.info().state === "running").length;
    await options.runtime.close({ graceMs, keepJobs });
    if (keepJobs && running) {
      log({ msg: "left running jobs to the next server", jobs: running });
    }
    if (abortConnections) {
      for (const socket of connections) socket.destroy();
    }
    const drained = new Promise<void>((resolve) =>
      server.tryShutdown(() => resolve())
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), drainMs);
    });
    if (await Promise.race([drained, late]) === "late") {
      log({ msg: "cancelling calls still in flight" });
      server.forceShutdown();
    }
    clearTimeout(timer);
    log({ msg: "stopped" });
  };
  return {
    port,
    close: (closeOptions) => closing ??= close(closeOptions),
    async reloadTls(pem) {
      await checkTlsFiles(pem);
      const list = pem.crl
        ? await readRevocationList(pem.crl, pem.ca)
        : undefined;
      credentials.reload(pem);
      admission.replaceCas(parseCaBundle(pem.ca));
      revocations.replace(list);
    },
    revoked: () => revocations.list?.serials.size ?? 0,
  };
}
