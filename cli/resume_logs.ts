import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  LogsRequestSchema,
  LogsResponse,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import { isConnectionLoss } from "./connection_loss.ts";

/** A Logs request, as the client takes it. */
export type LogsRequestInit = MessageInitShape<typeof LogsRequestSchema>;

/** Opens one Logs call, e.g. `client.logs`. */
export type OpenLogs = (
  request: LogsRequestInit,
  signal?: AbortSignal,
) => AsyncIterable<LogsResponse>;

/** Reconnections in a row before {@link resumeLogs} gives up: about a minute. */
export const MAX_RECONNECTS = 30;

/** How {@link resumeLogs} reconnects. */
export interface ResumeOptions {
  /** Cancels the call and any wait between attempts. */
  signal?: AbortSignal;
  /** Told before each reconnection, counted from 1 since the last chunk. */
  onReconnect?: (attempt: number, err: unknown) => void | Promise<void>;
  /** Waits `ms` between attempts; tests pass their own. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Reconnections in a row allowed (default {@link MAX_RECONNECTS}). */
  maxReconnects?: number;
}

/**
 * The chunks of a Logs call that survives the loss of its connection (a
 * dropped connection, a server restart): it calls `open` again, where the
 * last chunk ended, after 100 ms, then twice as long each time up to 2 s,
 * at most `maxReconnects` times in a row; a chunk resets the count. Other
 * errors, and the last loss, are thrown.
 *
 * `open` is the same client's call each time: a grpc-js channel connects
 * again by itself, so nothing new is made per attempt.
 *
 * @example
 * ```ts
 * for await (const chunk of resumeLogs(client.logs, { jobId, follow: true })) {
 *   await Deno.stdout.write(chunk.data);
 * }
 * ```
 */
export async function* resumeLogs(
  open: OpenLogs,
  request: LogsRequestInit,
  options: ResumeOptions = {},
): AsyncGenerator<LogsResponse> {
  const { signal, onReconnect, sleep = delay } = options;
  const maxReconnects = options.maxReconnects ?? MAX_RECONNECTS;
  let next = request;
  let attempt = 0;
  for (;;) {
    try {
      for await (const chunk of open(next, signal)) {
        attempt = 0;
        next = resumeRequest(request, chunk);
        yield chunk;
      }
      return;
    } catch (err) {
      if (signal?.aborted || !isConnectionLoss(err)) throw err;
      if (++attempt > maxReconnects) throw err;
      await onReconnect?.(attempt, err);
      await sleep(reconnectDelayMs(attempt), signal);
    }
  }
}

/**
 * The request that continues `request` just after `last`: at the next byte
 * of the one chosen stream, or of the combined view when both are shown.
 * The offset says where, so `tail` and `since`, which chose the start, go.
 *
 * @example
 * ```ts
 * resumeRequest({ jobId, tail: 10n }, last).offset; // last.position + len
 * ```
 */
export function resumeRequest(
  request: LogsRequestInit,
  last: LogsResponse,
): LogsRequestInit {
  const oneStream = new Set(request.streams ?? []).size === 1;
  const length = BigInt(last.data.length);
  const { tail: _tail, since: _since, ...rest } = request;
  return {
    ...rest,
    offset: (oneStream ? last.offset : last.position) + length,
  };
}

/**
 * The wait before reconnection `attempt` (from 1): 100 ms, doubling, at
 * most 2 s.
 *
 * @example
 * ```ts
 * reconnectDelayMs(3); // 400
 * ```
 */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** (attempt - 1), 2_000);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
