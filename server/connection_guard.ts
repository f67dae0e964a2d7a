/**
 * What keeps a connection flood from wedging the server: a cap on open
 * connections (the excess is closed at once, before any TLS work), a
 * deadline for the TLS handshake (a connection that never finishes it is
 * closed, and the refusal logged), so that the server never runs out of
 * file descriptors and serves again as soon as a flood ends.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { TLSSocket } from "node:tls";
import type { LogSink } from "./log.ts";
import { tlsListeners } from "./tls.ts";

export interface GuardOptions {
  /** Most connections open at once; beyond it new ones are closed at once. */
  maxConnections: number;
  /**
   * Most connections one identity (certificate CN) may have open; beyond it
   * its new ones are closed after the handshake. Default 64.
   */
  maxConnectionsPerUser?: number;
  /**
   * The user an admitted connection's certificate names; undefined for a
   * connection that is refused (it does not count against anyone).
   */
  userOf: (socket: TLSSocket) => string | undefined;
  /** Where refusals are logged (throttled: a flood writes a few lines a second). */
  refusals: LogSink;
}

/**
 * The connection cap for a process allowed `openFiles` descriptors: a
 * quarter of them, between 64 and 4096, leaving the rest to job pipes,
 * output files and followers.
 */
export function connectionCap(openFiles: number): number {
  return Math.max(64, Math.min(4096, Math.floor(openFiles / 4)));
}

/**
 * This process's soft limit of open files (Deno raises it to the hard
 * limit at start, as Node does).
 */
export function openFileLimit(): number {
  const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === "unlimited" ? 1 << 20 : Number(soft);
}

/** Applies the cap and closes connections whose TLS handshake failed or timed out. */
export function guardConnections(
  server: grpc.Server,
  options: GuardOptions,
): void {
  const refused = (
    reason: string,
    address?: string,
    msg = "tls handshake refused",
    label?: string,
  ) =>
    options.refusals({
      msg,
      ...(label ? { reason: label } : {}),
      error: reason,
      ...(address ? { client: address } : {}),
    });
  const perUser = new Map<string, number>();
  const maxPerUser = options.maxConnectionsPerUser ?? 64;
  for (const listener of tlsListeners(server)) {
    listener.maxConnections = options.maxConnections;
    // One user cannot hold the connections everyone else needs.
    listener.prependListener("secureConnection", (socket) => {
      const user = options.userOf(socket);
      if (user === undefined) return;
      const open = perUser.get(user) ?? 0;
      if (open >= maxPerUser) {
        refused(
          `user ${user} has ${open} connections open (limit ${maxPerUser})`,
          socket.remoteAddress,
          "connection refused",
          "connection_limit",
        );
        socket.destroy();
        return;
      }
      perUser.set(user, open + 1);
      socket.once("close", () => {
        const left = (perUser.get(user) ?? 1) - 1;
        if (left > 0) perUser.set(user, left);
        else perUser.delete(user);
      });
    });
    // Deno's tls.Server reports a failed or timed-out handshake but leaves
    // the socket open; Node's would close it.
    listener.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      const parent = (socket as { _parent?: { remoteAddress?: string } })
        ._parent;
      refused(err.message, socket.remoteAddress ?? parent?.remoteAddress);
      socket.destroy();
    });
  }
}
