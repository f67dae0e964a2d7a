/**
 * The development certificate set: a CA, a server certificate for
 * localhost, an admin and two users. Files live in one directory:
 * `ca.pem` + `ca.key` (kept to issue more), and `<name>.pem` + `<name>.key`
 * for `server`, `admin`, `alice` and `bob`. Keys are mode 0600.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULT_DEV_DIR } from "./dev_dir.ts";
import { createCa, issueCert, type Pem } from "./pki.ts";

export { DEFAULT_DEV_DIR };

/** Roles a client certificate can carry in its OU. */
export type Role = "user" | "admin";

/** The client identities of the development set. */
export const DEV_CLIENTS: ReadonlyArray<{ cn: string; role: Role }> = [
  { cn: "admin", role: "admin" },
  { cn: "alice", role: "user" },
  { cn: "bob", role: "user" },
];

/** Thrown by {@link issueClient} when the files exist and `force` is not set. */
export class CertExistsError extends Error {
  constructor(path: string) {
    super(`${path} exists (use --force to replace it)`);
    this.name = "CertExistsError";
  }
}

/**
 * Creates the development set in `dir`, keeping whatever is already there
 * unless `force`. A new CA always reissues every leaf so the set stays one
 * chain.
 *
 * @example
 * ```ts
 * await ensureDevCerts(); // certs/dev
 * ```
 */
export async function ensureDevCerts(
  dir: string = DEFAULT_DEV_DIR,
  opts: { force?: boolean } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  let force = opts.force ?? false;
  let ca = force ? undefined : await readPem(dir, "ca");
  if (!ca) {
    ca = await createCa({ cn: "jobworker dev CA" });
    await writePem(dir, "ca", ca);
    force = true;
  }
  if (force || !(await readPem(dir, "server"))) {
    await writePem(
      dir,
      "server",
      await issueCert(ca, { cn: "localhost", usage: "server" }),
    );
  }
  for (const { cn, role } of DEV_CLIENTS) {
    if (force || !(await readPem(dir, cn))) {
      await writePem(
        dir,
        cn,
        await issueCert(ca, { cn, ou: role, usage: "client" }),
      );
    }
  }
}

/**
 * Issues a client certificate `<cn>.pem`/`<cn>.key` for `role` from the CA
 * in `dir`, written to `out` (default `dir`). When `out` is another
 * directory, `ca.pem` is copied there too, so it holds all a client needs.
 *
 * @example
 * ```ts
 * await issueClient("certs/dev", "carol", "user");
 * ```
 */
export async function issueClient(
  dir: string,
  cn: string,
  role: Role,
  opts: { force?: boolean; out?: string } = {},
): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(cn)) {
    throw new RangeError(
      `bad name "${cn}": use letters, digits, . _ - (at most 64)`,
    );
  }
  if (cn === "ca" || cn === "server") {
    throw new RangeError(`name "${cn}" is reserved`);
  }
  const ca = await readPem(dir, "ca");
  if (!ca) {
    throw new Deno.errors.NotFound(`no CA in ${dir} (run: deno task certs)`);
  }
  const out = opts.out ?? dir;
  await Deno.mkdir(out, { recursive: true, mode: 0o700 });
  if (!opts.force && (await exists(join(out, `${cn}.pem`)))) {
    throw new CertExistsError(join(out, `${cn}.pem`));
  }
  await writePem(
    out,
    cn,
    await issueCert(ca, { cn, ou: role, usage: "client" }),
  );
  if (out !== dir) await Deno.writeTextFile(join(out, "ca.pem"), ca.cert);
}

/** Reads `<name>.pem` and `<name>.key` from `dir`; undefined if either is missing. */
export async function readPem(
  dir: string,
  name: string,
): Promise<Pem | undefined> {
  try {
    return {
      cert: await Deno.readTextFile(join(dir, `${name}.pem`)),
      key: await Deno.readTextFile(join(dir, `${name}.key`)),
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Writes the key first, then the cert. An existing key file is narrowed to
 * 0600 before the new key goes in, so no key is ever readable by others.
 */
async function writePem(dir: string, name: string, pem: Pem): Promise<void> {
  const keyPath = join(dir, `${name}.key`);
  if (await exists(keyPath)) await Deno.chmod(keyPath, 0o600);
  await Deno.writeTextFile(keyPath, pem.key, { mode: 0o600 });
  await Deno.writeTextFile(join(dir, `${name}.pem`), pem.cert, { mode: 0o644 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
