// What Deno's Node compatibility costs `jw` before grpc-js: a process that
// only loads the node: modules grpc-js uses for a TLS client.
import "node:http2";
import "node:tls";
import "node:dns";
import "node:zlib";
