// Baseline for `jw start`: a Deno process that only loads grpc-js.
import "@grpc/grpc-js";
