import { setTimeout as sleep } from "node:timers/promises";
import { isConnectionLoss } from "./connection_loss.ts";
import { MAX_RECONNECTS, reconnectDelayMs } from "./resume_logs.ts";

/**
 * `call()`'s answer, calling again when the connection was lost (a server
 * restart), with the waits and the limit of `jw logs -f`'s reconnections.
 * Meant for calls that may be repeated, such as Wait. Other errors, and the
 * last loss, are thrown.
 *
 * @example
 * ```ts
 * const { job } = await resumeCall(() => client.wait({ jobId }));
 * ```
 */
export async function resumeCall<T>(
  call: () => Promise<T>,
  options: {
    signal?: AbortSignal;
    onReconnect?: (attempt: number) => void | Promise<void>;
  } = {},
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (options.signal?.aborted || !isConnectionLoss(err)) throw err;
      if (attempt > MAX_RECONNECTS) throw err;
      await options.onReconnect?.(attempt);
      await sleep(reconnectDelayMs(attempt), undefined, {
        signal: options.signal,
      });
    }
  }
}
