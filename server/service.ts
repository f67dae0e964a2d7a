/**
 * The JobWorker RPC handlers: authenticate the caller from its certificate,
 * then act through its {@link Access} view and convert to and from protobuf.
 *
 * @module
 */
import type { JobWorker } from "../gen/jobworker/v1/jobworker_pb.ts";
import {
  DEFAULT_GRACE_MS,
  type JobRuntime,
  parseSignal,
  release,
} from "../lib/mod.ts";
import { Access } from "./access.ts";
import {
  chunkToProto,
  graceFromProto,
  jobToProto,
  limitsFromProto,
  nsFromTimestamp,
  offsetFromProto,
  roleToProto,
  stateFromProto,
  streamsFromProto,
  tailFromProto,
} from "./convert.ts";
import { listPage } from "./list_page.ts";
import type { CallContext, MethodsOf, ServiceImpl } from "./grpc_adapter.ts";
import { identityFromCertificate } from "./identity.ts";

/**
 * Handlers for jobworker.v1.JobWorker over `runtime`.
 *
 * @example
 * ```ts
 * addService(server, JobWorker, jobWorkerService(runtime));
 * ```
 */
export function jobWorkerService(
  runtime: JobRuntime,
  options: {
    /** Throws when the caller's certificate is no longer good (revoked). */
    checkCertificate?: (der: Uint8Array | undefined) => void;
    /** Told of every chunk of output sent to a Logs client. */
    streamed?: (stream: string, bytes: number) => void;
  } = {},
): ServiceImpl<MethodsOf<typeof JobWorker>> {
  const accessFor = (ctx: CallContext): Access => {
    options.checkCertificate?.(ctx.peerCertificate);
    const caller = identityFromCertificate(ctx.peerCertificate);
    ctx.fields.identity = caller.user;
    return new Access(runtime, caller);
  };
  /** The job a request's `job_id` refers to (an id, a name or a prefix). */
  const jobFor = (ctx: CallContext, ref: string) => {
    if (ref) ctx.fields.job = ref;
    const job = accessFor(ctx).job(ref);
    ctx.fields.job = job.id;
    return job;
  };

  return {
    async start(request, ctx) {
      const access = accessFor(ctx);
      // The audit trail: what was asked for, whether or not it started.
      ctx.fields.command = request.command;
      ctx.fields.args = request.args.length;
      if (request.name) ctx.fields.name = request.name;
      const job = await access.start({
        command: request.command,
        args: request.args,
        env: request.env,
        dir: request.dir || undefined,
        name: request.name || undefined,
        limits: limitsFromProto(request.limits),
      });
      ctx.fields.job = job.id;
      const info = job.info();
      ctx.fields.limits = info.limits;
      ctx.fields.uid = info.uid;
      return { job: jobToProto(info) };
    },

    async stop(request, ctx) {
      const job = jobFor(ctx, request.jobId);
      const info = await job.stop(
        graceFromProto(request.grace, DEFAULT_GRACE_MS),
      );
      return { job: jobToProto(info) };
    },

    async kill(request, ctx) {
      const job = jobFor(ctx, request.jobId);
      const signal = parseSignal(request.signal);
      ctx.fields.signal = signal;
      return { job: jobToProto(await job.kill(signal)) };
    },

    async status(request, ctx) {
      const job = jobFor(ctx, request.jobId);
      return { job: jobToProto(await job.status()) };
    },

    async wait(request, ctx) {
      const job = jobFor(ctx, request.jobId);
      return { job: jobToProto(await job.wait(ctx.signal)) };
    },

    async logs(request, send, ctx) {
      const job = jobFor(ctx, request.jobId);
      const output = job.output({
        streams: streamsFromProto(request.streams),
        from: offsetFromProto(request.offset),
        since: nsFromTimestamp(request.since, "since"),
        until: nsFromTimestamp(request.until, "until"),
        tail: tailFromProto(request.tail),
        exactTimes: request.exactTimes,
        follow: request.follow,
      });
      // pipeTo pulls the next chunk only once send() resolved, i.e. once
      // grpc-js has room for it; the signal cancels the reader when the
      // client goes away. Each chunk's bytes are freed as soon as they are
      // written (encoded into the HTTP/2 frame), not at the next GC.
      await output.pipeTo(
        new WritableStream({
          write: (chunk) => {
            options.streamed?.(chunk.stream, chunk.data.length);
            return send(chunkToProto(chunk), () => release(chunk.data));
          },
        }),
        { signal: ctx.signal },
      );
    },

    list(request, ctx) {
      const jobs = accessFor(ctx).list(request.owner);
      const { page, next } = listPage(jobs.map((job) => job.info()), {
        pageSize: request.pageSize,
        pageToken: request.pageToken,
        states: request.states.map(stateFromProto),
        name: request.name,
      });
      return Promise.resolve({
        jobs: page.map(jobToProto),
        nextPageToken: next,
      });
    },

    async remove(request, ctx) {
      if (request.jobId) ctx.fields.job = request.jobId;
      const info = await accessFor(ctx).remove(request.jobId);
      ctx.fields.job = info.id;
      return { job: jobToProto(info) };
    },

    whoAmI(_request, ctx) {
      const { caller } = accessFor(ctx);
      return Promise.resolve({
        user: caller.user,
        role: roleToProto(caller.role),
      });
    },
  };
}
