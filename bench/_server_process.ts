/**
 * A server for the gRPC benchmarks, run as its own process so that its RSS
 * and CPU are its own: `--kind jobworker` serves the real JobWorker (the
 * same `startServer` as main.ts, on a runtime with the bench's cgroup name);
 * `--kind bare` is a bare grpc-js server with the same TLS settings and
 * serializers whose Logs streams SIZE bytes of zeros in the chunks a
 * follower sends. Prints `{"port": N}` once listening; SIGTERM closes it.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { parseArgs } from "node:util";
import { JobWorker, OutputStream } from "../gen/jobworker/v1/jobworker_pb.ts";
import { JobRuntime } from "../lib/mod.ts";
import { serviceDefinition } from "../server/service_definition.ts";
import { startServer } from "../server/server.ts";
import { MutualTlsCredentials, readTlsFiles } from "../server/tls.ts";

const CHUNK = 128 * 1024;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    kind: { type: "string" },
    certs: { type: "string" },
    data: { type: "string" },
    cgroup: { type: "string" },
    size: { type: "string" },
  },
});
const tls = await readTlsFiles({
  ca: `${values.certs}/ca.pem`,
  cert: `${values.certs}/server.pem`,
  key: `${values.certs}/server.key`,
});

let close: () => Promise<void>;
let port: number;
if (values.kind === "bare") {
  const size = Number(values.size);
  const server = new grpc.Server();
  const data = new Uint8Array(CHUNK);
  server.addService(serviceDefinition(JobWorker), {
    // The request's offset, when set, is the number of bytes to send.
    logs: async (
      call: grpc.ServerWritableStream<{ offset: bigint }, unknown>,
    ) => {
      const total = Number(call.request.offset) || size;
      for (let offset = 0; offset < total; offset += CHUNK) {
        const message = {
          data,
          stream: OutputStream.STDOUT,
          offset: BigInt(offset),
        };
        if (!call.write(message)) {
          await new Promise((resolve) => call.once("drain", resolve));
        }
      }
      call.end();
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      new MutualTlsCredentials(tls),
      (err, p) => err ? reject(err) : resolve(p),
    )
  );
  close = () => new Promise((resolve) => server.tryShutdown(() => resolve()));
} else {
  const runtime = await JobRuntime.open({
    dataDir: values.data!,
    cgroupName: values.cgroup!,
  });
  const server = await startServer({ listen: "127.0.0.1:0", tls, runtime });
  port = server.port;
  close = () => server.close({ graceMs: 2_000, drainMs: 2_000 });
}

let closing = false;
Deno.addSignalListener("SIGTERM", async () => {
  if (closing) return;
  closing = true;
  await close();
  Deno.exit(0);
});
console.log(JSON.stringify({ port }));
