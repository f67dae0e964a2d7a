/**
 * grpc.health.v1.Health for the whole server (service "") and each served
 * service by name. Shutting down flips everything to NOT_SERVING and ends the
 * Watch streams so that they do not hold the server open.
 *
 * @module
 */
import { JobError } from "../lib/errors.ts";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Serving,
  type HealthCheckResponse_ServingStatus as ServingStatus,
} from "../gen/grpc/health/v1/health_pb.ts";
import type { MethodsOf, ServiceImpl } from "./grpc_adapter.ts";

/** Health handlers plus the switch the server flips when it shuts down. */
export interface HealthService {
  impl: ServiceImpl<MethodsOf<typeof Health>>;
  /** Reports NOT_SERVING from now on and ends every Watch. */
  shutdown(): void;
}

/**
 * Health of the named services; all SERVING until {@link HealthService.shutdown}.
 *
 * @example
 * ```ts
 * const health = healthService(["jobworker.v1.JobWorker"]);
 * addService(server, Health, health.impl);
 * ```
 */
export function healthService(services: string[]): HealthService {
  const known = new Set(["", ...services]);
  let serving = true;
  const watchers = new Set<(status: ServingStatus) => void>();
  const statusOf = (service: string) =>
    !known.has(service)
      ? undefined
      : serving
      ? Serving.SERVING
      : Serving.NOT_SERVING;

  return {
    impl: {
      check(request) {
        const status = statusOf(request.service);
        if (status === undefined) {
          return Promise.reject(
            new JobError("not_found", `service "${request.service}"`),
          );
        }
        return Promise.resolve({ status });
      },
      async watch(request, send, ctx) {
        await send({
          status: statusOf(request.service) ?? Serving.SERVICE_UNKNOWN,
        });
        if (!serving) return;
        await new Promise<void>((resolve, reject) => {
          const onChange = (status: ServingStatus) => {
            watchers.delete(onChange);
            ctx.signal.removeEventListener("abort", onAbort);
            send({ status }).then(resolve, reject);
          };
          const onAbort = () => {
            watchers.delete(onChange);
            reject(ctx.signal.reason);
          };
          watchers.add(onChange);
          ctx.signal.addEventListener("abort", onAbort);
        });
      },
    },
    shutdown() {
      serving = false;
      for (const watcher of [...watchers]) {
        watcher(Serving.NOT_SERVING);
      }
    },
  };
}
