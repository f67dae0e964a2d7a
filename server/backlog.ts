/**
 * Bounds what a connection's streaming responses may leave unsent.
 *
 * HTTP/2 flow control stops a client's data at its window, and grpc-js
 * waits for the HTTP/2 layer to take each message; but Deno 2.9.3's
 * `node:http2` (the version pinned, see the README) takes every write at
 * once, whatever the window, and keeps what it cannot send in memory. A
 * client that stops reading a Logs stream would make the server hold the
 * job's whole output. So the server keeps its own account, per connection:
 * the bytes its responses put on the wire (payload, gRPC and HTTP/2 frame
 * headers) against the bytes the HTTP/2 session's socket has written, and a
 * sender waits while the difference is above a limit. The sizes come from
 * the sender, which encodes each message before grpc-js sees it (grpc-js
 * serializes later), and the socket is `session.socket` (the socket of the
 * TLS server's `secureConnection` event does not count the session's
 * writes); with either wrong, the account saw nearly nothing and a reading
 * client's stream went unpaced (tests/server/main_test.ts).
 *
 * The account errs on the safe side: it leaves out what it cannot see
 * (response headers, trailers, TLS record overhead, unary answers), which
 * only makes the socket look further ahead than it is, so a sender never
 * waits for bytes that were already sent.
 *
 * @module
 */
import type { TLSSocket } from "node:tls";

/** Unsent bytes a connection may have before its senders wait. */
export const DEFAULT_BACKLOG_LIMIT = 1024 * 1024;
/** gRPC message prefix: compressed flag and length. */
const GRPC_PREFIX = 5;
/** HTTP/2 frame header, and the default (and minimum) maximum frame size. */
const FRAME_HEADER = 9;
const MAX_FRAME = 16_384;
/**
 * How often a connection with waiting senders looks at its socket again:
 * every 10 ms held one stream to 61 MiB/s where 2 ms gave 73 MiB/s.
 */
const POLL_MS = 2;

interface Account {
  socket: TLSSocket;
  /** socket.bytesWritten when the account opened (the handshake). */
  base: number;
  /** Bytes the responses have put on the wire so far. */
  queued: number;
  /** Senders waiting for the socket to catch up, woken together. */
  waiters: Set<() => void>;
  /** Polls the socket while anyone waits. */
  timer?: ReturnType<typeof setInterval>;
}

/** Wire bytes of one gRPC message of `bytes` bytes, counting its DATA frame headers. */
export function wireBytes(bytes: number): number {
  const framed = bytes + GRPC_PREFIX;
  return framed + FRAME_HEADER * Math.ceil(framed / MAX_FRAME);
}

/** The per-connection account of streaming responses not yet written. */
export class Backlog {
  readonly #limit: number;
  readonly #accounts = new Map<string, Account>();

  constructor(limit = DEFAULT_BACKLOG_LIMIT) {
    this.#limit = limit;
  }

  /** Opens the account of a new connection; it closes with the socket. */
  track(socket: TLSSocket): void {
    const key = peerKey(socket);
    if (!key) return;
    this.#accounts.set(key, {
      socket,
      base: socket.bytesWritten ?? 0,
      queued: 0,
      waiters: new Set(),
    });
    socket.once("close", () => {
      const account = this.#accounts.get(key);
      if (account?.socket !== socket) return;
      this.#accounts.delete(key);
      this.#wake(account);
    });
  }

  /** Bytes `peer`'s connection has been given and not yet written. */
  unsent(peer: string): number {
    const account = this.#accounts.get(peer);
    if (!account) return 0;
    const written = (account.socket.bytesWritten ?? 0) - account.base;
    return Math.max(0, account.queued - written);
  }

  /**
   * Counts a message of `bytes` bytes sent to `peer` (as grpc-js names it,
   * `address:port`), then waits while the connection has more than the
   * limit unsent, or until `signal` aborts. Unknown peers never wait.
   */
  async add(peer: string, bytes: number, signal: AbortSignal): Promise<void> {
    const account = this.#accounts.get(peer);
    if (!account) return;
    account.queued += wireBytes(bytes);
    while (this.#over(account)) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          account.waiters.delete(wake);
          if (account.waiters.size === 0) this.#wake(account);
          reject(signal.reason);
        };
        const wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        account.waiters.add(wake);
        account.timer ??= setInterval(() => {
          if (!this.#over(account)) this.#wake(account);
        }, POLL_MS);
      });
    }
    signal.throwIfAborted();
  }

  /** Whether `peer`'s connection has senders waiting (and is polled). */
  polling(peer: string): boolean {
    return this.#accounts.get(peer)?.timer !== undefined;
  }

  #over(account: Account): boolean {
    if (account.socket.destroyed) return false;
    const written = (account.socket.bytesWritten ?? 0) - account.base;
    return account.queued - written > this.#limit;
  }

  /** Wakes every waiting sender (if any) and stops polling. */
  #wake(account: Account): void {
    clearInterval(account.timer);
    account.timer = undefined;
    const waiters = [...account.waiters];
    account.waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** `address:port` of the remote end, the way grpc-js's getPeer() writes it. */
function peerKey(socket: TLSSocket): string | undefined {
  if (!socket.remoteAddress) return undefined;
  return socket.remotePort
    ? `${socket.remoteAddress}:${socket.remotePort}`
    : socket.remoteAddress;
}
