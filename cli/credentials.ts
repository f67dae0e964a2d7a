/**
 * Where `jw` finds the server and its TLS identity. Each setting comes from
 * its flag, else its environment variable, else a default:
 *
 * - server: `--server`, `JW_SERVER`, `localhost:50051`
 * - files: `--ca`/`--cert`/`--key`, `JW_CA`/`JW_CERT`/`JW_KEY`, else a
 *   directory: `~/.config/jw` (`$XDG_CONFIG_HOME/jw`) when it holds `ca.pem`,
 *   else the repo's development set `certs/dev`.
 * - in that directory the identity is `NAME.pem`/`NAME.key` where NAME is
 *   `--user`/`JW_USER`, by default `client` in `~/.config/jw` and `alice`
 *   (a plain user) in `certs/dev`.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULT_DEV_DIR } from "../certs/dev_dir.ts";
import type { ConnectionFlags } from "./args.ts";
import { CliError } from "./cli_error.ts";
import { UsageError } from "./usage_error.ts";

/** Default server address; a host name so the certificate's name is checked. */
export const DEFAULT_SERVER = "localhost:50051";
/** Identity used from `certs/dev` when neither --user nor JW_USER is set. */
export const DEFAULT_DEV_USER = "alice";

/** The files and address one connection uses. */
export interface ConnectionPaths {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

/** A connection's address and PEM contents, ready for TLS. */
export interface Credentials {
  server: string;
  ca: Uint8Array;
  cert: Uint8Array;
  key: Uint8Array;
}

/** What the resolution may look at; tests pass their own. */
export interface Surroundings {
  env: Record<string, string | undefined>;
  /** `~/.config/jw` or its XDG equivalent; undefined without a home. */
  configDir?: string;
  devDir: string;
  exists: (path: string) => boolean;
}

/**
 * Decides which server and files to use, without reading them.
 *
 * @example
 * ```ts
 * resolvePaths({ user: "admin" }, surroundings()).cert; // ".../certs/dev/admin.pem"
 * ```
 */
export function resolvePaths(
  flags: ConnectionFlags,
  around: Surroundings,
): ConnectionPaths {
  const { env } = around;
  const server = flags.server ?? nonEmpty(env.JW_SERVER) ?? DEFAULT_SERVER;
  const user = flags.user ?? nonEmpty(env.JW_USER);
  let cert = flags.cert ?? nonEmpty(env.JW_CERT);
  let key = flags.key ?? nonEmpty(env.JW_KEY);
  let ca = flags.ca ?? nonEmpty(env.JW_CA);
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(
      cert === undefined
        ? "--key needs --cert (or JW_CERT)"
        : "--cert needs --key (or JW_KEY)",
    );
  }
  if (cert === undefined || ca === undefined) {
    const dir = identityDir(around);
    const name = user ??
      (dir === around.configDir ? "client" : DEFAULT_DEV_USER);
    ca ??= join(dir, "ca.pem");
    cert ??= join(dir, `${name}.pem`);
    key ??= join(dir, `${name}.key`);
  }
  return { server, ca, cert, key: key! };
}

function identityDir(around: Surroundings): string {
  if (around.configDir && around.exists(join(around.configDir, "ca.pem"))) {
    return around.configDir;
  }
  if (around.exists(join(around.devDir, "ca.pem"))) return around.devDir;
  throw new CliError(
    "no credentials: pass --ca/--cert/--key (or JW_CA/JW_CERT/JW_KEY), put ca.pem, " +
      "client.pem and client.key in ~/.config/jw, or run `deno task certs` in the repo",
  );
}

/** The real environment, home config directory and repo dev directory. */
export function surroundings(): Surroundings {
  const env = Deno.env.toObject();
  const base = nonEmpty(env.XDG_CONFIG_HOME) ??
    (nonEmpty(env.HOME) ? join(env.HOME, ".config") : undefined);
  return {
    env,
    configDir: base && join(base, "jw"),
    devDir: DEFAULT_DEV_DIR,
    exists: (path) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Resolves and reads the connection's files; a missing or unreadable file is
 * a {@link CliError} naming it.
 */
export async function loadCredentials(
  flags: ConnectionFlags,
  around: Surroundings = surroundings(),
): Promise<Credentials> {
  const paths = resolvePaths(flags, around);
  return {
    server: paths.server,
    ca: await readPem("CA certificate", paths.ca),
    cert: await readPem("client certificate", paths.cert),
    key: await readPem("client key", paths.key),
  };
}

async function readPem(what: string, path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new CliError(`cannot read ${what} ${path}: ${reason}`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
