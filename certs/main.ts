/**
 * `deno task certs`: creates the development certificate set, or issues one
 * more client certificate from its CA.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_DEV_DIR,
  ensureDevCerts,
  issueClient,
  requestClient,
  revokeClient,
  type Role,
  signClient,
} from "./dev_certs.ts";

const HELP = `Usage:
  deno task certs [--dir DIR] [--force]
      Create the development set in DIR (default certs/dev): ca.pem/ca.key,
      server.pem/.key (localhost, 127.0.0.1), admin (role admin), alice and
      bob (role user). Existing files are kept unless --force.
  deno task certs issue --cn NAME --role user|admin [--dir DIR] [--out OUT] [--force]
      Issue NAME.pem/NAME.key signed by the CA in DIR, written to OUT
      (default DIR; another OUT also gets a copy of ca.pem).
  deno task certs request --cn NAME --out DIR
      On the user's side: a new key DIR/client.key (stays there) and a
      request DIR/NAME.csr to send to the CA's keeper.
  deno task certs sign --csr FILE --role user|admin [--dir DIR] [--out OUT]
      On the CA's side: sign the request (its CN is the user name; the role
      is yours to give), writing OUT/NAME.pem and OUT/ca.pem (default OUT:
      the current directory). The user saves NAME.pem as client.pem next to
      client.key, with ca.pem, e.g. in ~/.config/jw.
  deno task certs revoke --cert FILE [--dir DIR]
      Revoke the certificate in FILE: DIR/revoked.json lists it and
      DIR/crl.pem is written anew (valid 30 days; revoke again, or with the
      same FILE, to renew it). Servers given --crl DIR/crl.pem refuse it
      once they read the list (at start, and on SIGHUP).

Options:
  --dir DIR     directory of the CA (default certs/dev in the repo)
  --force       replace existing certificates (a new CA reissues the whole set)
  -h, --help    show this help`;

class UsageError extends Error {}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = values.dir ?? DEFAULT_DEV_DIR;
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command === undefined) {
    if (
      values.cn !== undefined || values.role !== undefined ||
      values.out !== undefined
    ) {
      throw new UsageError("--cn, --role and --out belong to `certs issue`");
    }
    await ensureDevCerts(dir, { force: values.force });
    console.log(`certs: development set ready in ${dir}`);
    return 0;
  }
  if (command === "request") {
    if (!values.cn) throw new UsageError("request needs --cn NAME");
    if (!values.out) throw new UsageError("request needs --out DIR");
    const csr = await requestClient(values.cn, values.out);
    console.log(
      `certs: key ${values.out}/client.key kept; send ${csr} to the CA's keeper`,
    );
    return 0;
  }
  if (command === "sign") {
    if (!values.csr) throw new UsageError("sign needs --csr FILE");
    const role = values.role;
    if (role !== "user" && role !== "admin") {
      throw new UsageError("sign needs --role user or --role admin");
    }
    const out = values.out ?? ".";
    const cn = await signClient(dir, values.csr, role, out);
    console.log(
      `certs: signed ${cn} (${role}): ${out}/${cn}.pem and ${out}/ca.pem`,
    );
    return 0;
  }
  if (command === "revoke") {
    if (!values.cert) throw new UsageError("revoke needs --cert FILE");
    const serial = await revokeClient(dir, values.cert);
    console.log(
      `certs: revoked ${values.cert} (serial ${serial}); list: ${dir}/crl.pem`,
    );
    return 0;
  }
  if (command !== "issue") throw new UsageError(`unknown command "${command}"`);
  if (!values.cn) throw new UsageError("issue needs --cn NAME");
  const role = values.role;
  if (role !== "user" && role !== "admin") {
    throw new UsageError("issue needs --role user or --role admin");
  }
  await issueClient(dir, values.cn, role as Role, {
    force: values.force,
    out: values.out,
  });
  console.log(`certs: issued ${values.cn} (${role}) in ${values.out ?? dir}`);
  return 0;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        force: { type: "boolean", default: false },
        dir: { type: "string" },
        out: { type: "string" },
        cn: { type: "string" },
        role: { type: "string" },
        cert: { type: "string" },
        csr: { type: "string" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    const usage = err instanceof UsageError;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`certs: ${message}${usage ? " (see --help)" : ""}`);
    Deno.exit(usage || err instanceof RangeError ? 2 : 1);
  }
}
