/**
 * A client process for the churn test: opens `rounds` HTTP/2 connections
 * to the server, makes `calls` WhoAmI calls on each, and ends each
 * connection by `mode`: "destroy" drops the socket with no GOAWAY, "close"
 * sends a GOAWAY first (as grpc-js and grpc-go clients do when closed).
 *
 * Usage: deno run -A _churn_client.ts PORT CERTS_DIR ROUNDS CALLS MODE
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import { join } from "node:path";

const [port, certs, rounds, calls, mode] = Deno.args;
const tls = {
  ca: Buffer.from(await Deno.readTextFile(join(certs, "ca.pem"))),
  cert: Buffer.from(await Deno.readTextFile(join(certs, "alice.pem"))),
  key: Buffer.from(await Deno.readTextFile(join(certs, "alice.key"))),
  servername: "localhost",
};
/** gRPC framing of an empty WhoAmIRequest: no compression, length 0. */
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

function whoAmI(session: http2.ClientHttp2Session): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = session.request({
      ":method": "POST",
      ":path": "/jobworker.v1.JobWorker/WhoAmI",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status = "";
    request.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"]);
    });
    request.on("data", () => {});
    request.on("end", () => resolve(status));
    request.on("error", reject);
    request.end(EMPTY_MESSAGE);
  });
}

let ok = 0;
for (let round = 0; round < Number(rounds); round++) {
  const session = http2.connect(`https://localhost:${port}`, tls);
  session.on("error", () => {});
  for (let call = 0; call < Number(calls); call++) {
    if (await whoAmI(session) === "0") ok++;
  }
  if (mode === "close") session.close();
  else session.destroy();
}
console.log(JSON.stringify({ ok }));
