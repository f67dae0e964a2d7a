/**
 * Starts Deno's one-time TLS set-up on a worker thread, so that it runs while
 * `jw` loads grpc-js instead of after.
 *
 * The first TLS connection a Deno 2.9.3 process makes spends about 40 ms of
 * CPU before its ClientHello (Deno.connectTls and node:tls alike; a second
 * connection takes 2 ms). The first P-256 operation of WebCrypto pays the
 * same one-time cost, and WebCrypto runs it on a blocking-pool thread: a
 * connection made after one starts at full speed (measured: first
 * connectTls 35–50 ms cold, 3–5 ms after a P-256 key generation done in the
 * background while the main thread was busy). Started right before grpc-js
 * is imported, it costs the command nothing.
 *
 * @example
 * ```ts
 * warmUpTls();
 * const grpc = await import("@grpc/grpc-js");
 * ```
 */
export function warmUpTls(): void {
  crypto.subtle.generateKey(
    { name: "ECDH", namedCurve: "P-256" },
    false,
    ["deriveBits"],
  ).catch(() => {
    // Only a head start: the connection does the set-up itself if this failed.
  });
}
