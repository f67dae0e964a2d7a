/**
 * The development certificate set: a CA, a server certificate for
 * localhost, an admin and two users. Files live in one directory:
 * `ca.pem` + `ca.key` (kept to issue more), and `<name>.pem` + `<name>.key`
 * for `server`, `admin`, `alice` and `bob`. Keys are mode 0600.
 *
 * @module
 */
// tsyringe, used inside @peculiar/x509, needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { join } from "node:path";
import { DEFAULT_DEV_DIR } from "./dev_dir.ts";
import {
  createCa,
  createCrl,
  createRequest,
  issueCert,
  type Pem,
  signRequest,
} from "./pki.ts";

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
  checkName(cn);
  const ca = await readCa(dir);
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

/**
 * Revokes the certificate in `certPath` (issued by the CA in `dir`): adds
 * its serial to `dir/revoked.json` and writes `dir/crl.pem`, the list a
 * server reads with `--crl` (and again on SIGHUP). Returns the serial.
 */
export async function revokeClient(
  dir: string,
  certPath: string,
): Promise<string> {
  const ca = await readCa(dir);
  const cert = new x509.X509Certificate(await Deno.readTextFile(certPath));
  const caCert = new x509.X509Certificate(ca.cert);
  if (cert.issuer !== caCert.subject) {
    throw new RangeError(`${certPath} was not issued by the CA in ${dir}`);
  }
  const listPath = join(dir, "revoked.json");
  const revoked: { serial: string; date: string }[] = JSON.parse(
    await Deno.readTextFile(listPath).catch(() => "[]"),
  );
  if (!revoked.some((r) => r.serial === cert.serialNumber)) {
    revoked.push({ serial: cert.serialNumber, date: new Date().toISOString() });
  }
  const crl = await createCrl(
    ca,
    revoked.map((r) => ({ serial: r.serial, date: new Date(r.date) })),
  );
  await Deno.writeTextFile(
    `${listPath}.tmp`,
    JSON.stringify(revoked, null, 2) + "\n",
  );
  await Deno.rename(`${listPath}.tmp`, listPath);
  await Deno.writeTextFile(join(dir, "crl.pem.tmp"), crl);
  await Deno.rename(join(dir, "crl.pem.tmp"), join(dir, "crl.pem"));
  return cert.serialNumber;
}

/**
 * The user's side of the request flow: a fresh key (`out/client.key`, mode
 * 0600, never sent anywhere) and a request for `cn` (`out/<cn>.csr`) to
 * hand to whoever holds the CA. Returns the request's path.
 */
export async function requestClient(cn: string, out: string): Promise<string> {
  checkName(cn);
  await Deno.mkdir(out, { recursive: true, mode: 0o700 });
  const keyPath = join(out, "client.key");
  if (await exists(keyPath)) throw new CertExistsError(keyPath);
  const { csr, key } = await createRequest(cn);
  await Deno.writeTextFile(keyPath, key, { mode: 0o600, createNew: true });
  const csrPath = join(out, `${cn}.csr`);
  await Deno.writeTextFile(csrPath, csr);
  return csrPath;
}

/**
 * The CA's side: signs the request in `csrPath` for `role`, writing
 * `out/<cn>.pem` and `out/ca.pem`. Returns the user name.
 */
export async function signClient(
  dir: string,
  csrPath: string,
  role: Role,
  out: string,
): Promise<string> {
  const ca = await readCa(dir);
  const { cn, cert } = await signRequest(
    ca,
    await Deno.readTextFile(csrPath),
    role,
  );
  checkName(cn);
  await Deno.mkdir(out, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(out, `${cn}.pem`), cert, { mode: 0o644 });
  if (out !== dir) await Deno.writeTextFile(join(out, "ca.pem"), ca.cert);
  return cn;
}

/** The CA in `dir`; NotFound, saying how to make one, when there is none. */
async function readCa(dir: string): Promise<Pem> {
  const ca = await readPem(dir, "ca");
  if (!ca) {
    throw new Deno.errors.NotFound(`no CA in ${dir} (run: deno task certs)`);
  }
  return ca;
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
/** Throws RangeError unless `cn` can name a client (and its files). */
function checkName(cn: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(cn)) {
    throw new RangeError(
      `bad name "${cn}": use letters, digits, . _ - (at most 64)`,
    );
  }
  if (cn === "ca" || cn === "server" || cn === "client") {
    throw new RangeError(`name "${cn}" is reserved`);
  }
}

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
