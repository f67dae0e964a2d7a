/**
 * Conversions between the runtime's plain types (lib/job_info.ts,
 * lib/limits.ts) and the API's protobuf messages. Field names follow one
 * another; only numbers (uint64 ↔ number), dates and enums change shape.
 *
 * @module
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  durationMs,
  timestampFromDate,
  type TimestampSchema,
} from "@bufbuild/protobuf/wkt";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import {
  type JobSchema,
  JobState,
  type Limits as LimitsMessage,
  LimitsSchema,
  type LogsResponseSchema,
  OutputStream,
  Role,
  UsageSchema,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import { JobError } from "../lib/errors.ts";
import { MAX_GRACE_MS } from "../lib/job.ts";
import type {
  JobInfo,
  JobState as State,
  OutputChunk,
  StreamName,
} from "../lib/job_info.ts";
import { LIMIT_KEYS, type Limits } from "../lib/limits.ts";
import type { Role as RoleName } from "./identity.ts";

const STATES: Readonly<Record<State, JobState>> = {
  running: JobState.RUNNING,
  exited: JobState.EXITED,
  signaled: JobState.SIGNALED,
  stopped: JobState.STOPPED,
  failed_to_start: JobState.FAILED_TO_START,
  lost: JobState.LOST,
};

/** An API job state as the runtime's; `invalid_argument` for an unknown one. */
export function stateFromProto(state: JobState): State {
  const found = (Object.keys(STATES) as State[]).find((name) =>
    STATES[name] === state
  );
  if (!found) {
    throw new JobError("invalid_argument", `unknown job state ${state}`);
  }
  return found;
}

const STREAMS: Readonly<Record<StreamName, OutputStream>> = {
  stdout: OutputStream.STDOUT,
  stderr: OutputStream.STDERR,
};

/** A job snapshot as the API's Job message. */
export function jobToProto(info: JobInfo): MessageInitShape<typeof JobSchema> {
  return {
    id: info.id,
    owner: info.owner,
    name: info.name,
    command: info.command,
    args: info.args,
    dir: info.dir,
    uid: info.uid,
    state: STATES[info.state],
    exitCode: info.exitCode,
    signal: info.signal,
    oomKilled: info.oomKilled,
    error: info.error ?? "",
    createdAt: timestampFromDate(info.createdAt),
    startedAt: info.startedAt && timestampFromDate(info.startedAt),
    endedAt: info.endedAt && timestampFromDate(info.endedAt),
    limits: limitsToProto(info.limits),
    usage: create(UsageSchema, {
      cpuSeconds: info.usage.cpuSeconds,
      memoryPeakBytes: BigInt(info.usage.memoryPeakBytes),
      ioReadBytes: BigInt(info.usage.ioReadBytes),
      ioWriteBytes: BigInt(info.usage.ioWriteBytes),
      cpuThrottledSeconds: info.usage.cpuThrottledSeconds,
    }),
    stdoutBytes: BigInt(info.stdoutBytes),
    stderrBytes: BigInt(info.stderrBytes),
    outputCapBytes: info.outputCapBytes === undefined
      ? undefined
      : BigInt(info.outputCapBytes),
    stdoutDroppedBytes: BigInt(info.stdoutDroppedBytes),
    stderrDroppedBytes: BigInt(info.stderrDroppedBytes),
  };
}

function limitsToProto(limits: Limits) {
  const big = (n: number | undefined) =>
    n === undefined ? undefined : BigInt(Math.round(n));
  return create(LimitsSchema, {
    cpu: limits.cpu,
    memoryBytes: big(limits.memoryBytes),
    ioReadBps: big(limits.ioReadBps),
    ioWriteBps: big(limits.ioWriteBps),
    pids: limits.pids,
  });
}

/**
 * Requested limits, or undefined when the request sets none (an absent or
 * empty Limits message asks for the policy defaults).
 */
export function limitsFromProto(
  message: LimitsMessage | undefined,
): Limits | undefined {
  if (!message) return undefined;
  const limits: Limits = {};
  for (const key of LIMIT_KEYS) {
    const value = message[key];
    if (value === undefined) continue;
    if (typeof value === "bigint" && value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new JobError("invalid_argument", `limit ${key} is too large`);
    }
    limits[key] = Number(value);
  }
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** Stream names asked for by a Logs request; undefined means both. */
export function streamsFromProto(
  streams: OutputStream[],
): StreamName[] | undefined {
  if (streams.length === 0) return undefined;
  const names = new Set<StreamName>();
  for (const stream of streams) {
    if (stream === OutputStream.STDOUT) names.add("stdout");
    else if (stream === OutputStream.STDERR) names.add("stderr");
    else {throw new JobError(
        "invalid_argument",
        `unknown output stream ${stream}`,
      );}
  }
  return [...names];
}

/** A piece of output as a LogsResponse. */
export function chunkToProto(
  chunk: OutputChunk,
): MessageInitShape<typeof LogsResponseSchema> {
  return {
    data: chunk.data,
    stream: STREAMS[chunk.stream],
    offset: BigInt(chunk.offset),
    position: BigInt(chunk.position),
    time: timestampFromNs(chunk.time),
    droppedBytes: BigInt(chunk.dropped ?? 0),
  };
}

const NS = 1_000_000_000n;

/** A time in ns since the epoch as a Timestamp. */
export function timestampFromNs(
  ns: bigint,
): MessageInitShape<typeof TimestampSchema> {
  return { seconds: ns / NS, nanos: Number(ns % NS) };
}

/** A Timestamp from a request as ns since the epoch; `invalid_argument` when malformed. */
export function nsFromTimestamp(
  time: Timestamp | undefined,
  field: string,
): bigint | undefined {
  if (!time) return undefined;
  if (time.nanos < 0 || time.nanos >= 1e9 || time.seconds < 0n) {
    throw new JobError(
      "invalid_argument",
      `${field} is not a valid time (${time.seconds} s, ${time.nanos} ns)`,
    );
  }
  return time.seconds * NS + BigInt(time.nanos);
}

/** A line count from a request; must fit a JavaScript number. */
export function tailFromProto(tail: bigint | undefined): number | undefined {
  if (tail === undefined) return undefined;
  return tail > BigInt(Number.MAX_SAFE_INTEGER)
    ? Number.MAX_SAFE_INTEGER
    : Number(tail);
}

/** A byte offset from a request; must fit a JavaScript number. */
export function offsetFromProto(offset: bigint): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new JobError("invalid_argument", "offset is too large");
  }
  return Number(offset);
}

/**
 * A stop grace period in milliseconds; `fallbackMs` when absent. Throws
 * `invalid_argument` for a malformed Duration, a negative one, or one
 * over {@link MAX_GRACE_MS}.
 */
export function graceFromProto(
  grace: Duration | undefined,
  fallbackMs: number,
): number {
  if (!grace) return fallbackMs;
  const { seconds, nanos } = grace;
  // protobuf's own rules for a Duration: |nanos| < 1e9, same sign as seconds.
  if (
    nanos <= -1e9 || nanos >= 1e9 || (seconds > 0n && nanos < 0) ||
    (seconds < 0n && nanos > 0)
  ) {
    throw new JobError(
      "invalid_argument",
      `grace is not a valid duration (${seconds} s, ${nanos} ns)`,
    );
  }
  const ms = durationMs(grace);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new JobError("invalid_argument", "grace must not be negative");
  }
  if (ms > MAX_GRACE_MS) {
    throw new JobError(
      "invalid_argument",
      `grace must be at most 24h, got ${ms / 1000} s`,
    );
  }
  return ms;
}

/** A role as the API's Role enum. */
export function roleToProto(role: RoleName): Role {
  return role === "admin" ? Role.ADMIN : Role.USER;
}
