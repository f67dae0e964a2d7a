/**
 * The jobworker server: `deno task server [flags]`. Serves the job runtime
 * over gRPC with mutual TLS 1.3; see `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DEFAULT_DEV_DIR } from "./certs/dev_dir.ts";
import { parseDuration } from "./cli/duration.ts";
import { versionLine } from "./version.ts";
import {
  DEFAULT_JOB_UIDS,
  JobRuntime,
  loadPolicy,
  MAX_GRACE_MS,
  parseSize,
  parseUidRange,
  type Retention,
} from "./lib/mod.ts";
import { warnIfExpiring } from "./server/cert_expiry.ts";
import { type LogSink, stderrLog } from "./server/log.ts";
import { type FlagTypes, readConfigFile } from "./server/config_file.ts";
import { Metrics, serveMetrics } from "./server/metrics.ts";
import { startServer } from "./server/server.ts";
import { connectionCap, openFileLimit } from "./server/connection_guard.ts";
import { readTlsFiles } from "./server/tls.ts";

const HELP = `Usage: deno task server [flags]

Serves jobworker.v1.JobWorker, grpc.health.v1.Health and server reflection
over mutual TLS 1.3. Logs one JSON line per call to stderr.

Flags:
  --config FILE        JSON settings: keys are the flags below without "--"
                       ({"listen": "0.0.0.0:50051", "retain-jobs": 20}); flags win
  --listen HOST:PORT   address to listen on (default 127.0.0.1:50051)
  --ca FILE            CA certificate clients must chain to (default ${
  devPath("ca.pem")
})
  --cert FILE          server certificate (default ${devPath("server.pem")})
  --key FILE           server private key (default ${devPath("server.key")})
  --crl FILE           revocation list of the CA (PEM): its certificates are refused
                       (default: none; deno task certs revoke makes one for the dev CA)
  --data-dir DIR       job output, state and working directories (default /var/lib/jobworker)
  --policy FILE        JSON limits policy (default: the built-in policy)
  --job-uids FIRST-LAST
                       uids (and gids) jobs run as, one of its own per job; none may
                       belong to an account or subordinate id range (default ${DEFAULT_JOB_UIDS.first}-${DEFAULT_JOB_UIDS.last})
  --job-user USER      run every job as this one account instead: a user name or UID:GID
  --job-paths LIST     host paths jobs see, read-only, comma-separated
                       (default: those of /bin,/etc,/lib,/lib32,/lib64,/libx32,/sbin,/usr that exist)
  --stop-jobs-on-exit  on SIGTERM/SIGINT, stop running jobs (default: leave them running
                       under their launchers for the next server, which re-adopts them)
  --grace DURATION     with --stop-jobs-on-exit, time running jobs get before SIGKILL:
                       seconds or e.g. 5s, 1m30s (default 10)
  --retain-hours N     remove finished jobs and their output N hours after they ended (default: keep)
  --retain-bytes SIZE  while all output exceeds SIZE (e.g. 10G), remove finished jobs: the oldest
                       of the user whose jobs take the most disk first (default: keep)
  --retain-jobs N      keep each user's N newest finished jobs, remove older ones (default: all)
  --max-log-bytes SIZE keep at most about SIZE of each stream of a job; older output is dropped (default: all)
  --instance NAME      name of this server's job cgroups (default: jobworker for the default
                       data directory, else jobworker-<hash of the data directory>)
  --metrics-listen HOST:PORT
                       serve Prometheus metrics at http://HOST:PORT/metrics, plain HTTP
                       (e.g. 127.0.0.1:9464; keep it on loopback; default: off)
  --version            print the version
  -h, --help           show this help
`;

const DEFAULT_DATA_DIR = "/var/lib/jobworker";

/**
 * The instance name of a server on `dataDir`: "jobworker" for the default
 * directory, otherwise one derived from the directory, so that servers on
 * different directories never share (or remove) each other's cgroups.
 */
async function defaultInstance(dataDir: string): Promise<string> {
  const path = dataDir.replace(/\/+$/, "") || "/";
  if (path === DEFAULT_DATA_DIR) return "jobworker";
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(path),
  );
  const hex = [...new Uint8Array(digest).slice(0, 4)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `jobworker-${hex}`;
}

function devPath(name: string): string {
  return join(DEFAULT_DEV_DIR, name);
}

/** A user name or `uid:gid` as numeric ids. */
async function parseJobUser(
  text: string,
): Promise<{ uid: number; gid: number }> {
  const ids = /^(\d+):(\d+)$/.exec(text);
  if (ids) return { uid: Number(ids[1]), gid: Number(ids[2]) };
  const passwd = await Deno.readTextFile("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === text) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`--job-user: no user "${text}" in /etc/passwd`);
}

function parseRetention(
  hours?: string,
  bytes?: string,
  jobs?: string,
): Retention {
  const retention: Retention = {};
  if (jobs !== undefined) {
    const n = Number(jobs);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new Error(`--retain-jobs: not a number of jobs: ${jobs}`);
    }
    retention.maxJobsPerOwner = n;
  }
  if (hours !== undefined) {
    const h = Number(hours);
    if (!Number.isFinite(h) || h < 0) {
      throw new Error(`--retain-hours: not a number of hours: ${hours}`);
    }
    retention.maxAgeMs = h * 3_600_000;
  }
  if (bytes !== undefined) retention.maxBytes = parseSize(bytes);
  return retention;
}

const FLAGS = {
  config: { type: "string" },
  listen: { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  crl: { type: "string" },
  "data-dir": { type: "string" },
  policy: { type: "string" },
  "job-user": { type: "string" },
  "job-uids": { type: "string" },
  "job-paths": { type: "string" },
  grace: { type: "string" },
  "retain-hours": { type: "string" },
  "retain-bytes": { type: "string" },
  "retain-jobs": { type: "string" },
  "max-log-bytes": { type: "string" },
  instance: { type: "string" },
  "stop-jobs-on-exit": { type: "boolean" },
  "metrics-listen": { type: "string" },
  version: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What a flag given neither on the command line nor in the file is. */
const DEFAULTS = {
  listen: "127.0.0.1:50051",
  ca: devPath("ca.pem"),
  cert: devPath("server.pem"),
  key: devPath("server.key"),
  "data-dir": DEFAULT_DATA_DIR,
  grace: "10",
};

/** Every flag but these may be set in the config file. */
const FILE_SETTINGS: FlagTypes = Object.fromEntries(
  Object.entries(FLAGS)
    .filter(([name]) => !["config", "version", "help"].includes(name))
    .map(([name, { type }]) => [name, type]),
);

async function main(args: string[], log: LogSink): Promise<number> {
  const { values: given } = parseArgs({
    args,
    options: FLAGS,
    strict: true,
    allowPositionals: false,
  });
  const fromFile = given.config
    ? await readConfigFile(given.config, FILE_SETTINGS)
    : {};
  const flags = { ...DEFAULTS, ...fromFile, ...given } as
    & typeof given
    & typeof DEFAULTS;
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (flags.version) {
    console.log(versionLine("jobworker"));
    return 0;
  }
  // Seconds, or a duration like jw's (5s, 1m30s).
  const graceMs = parseDuration(flags.grace, "--grace");
  if (graceMs > MAX_GRACE_MS) {
    throw new Error(`--grace: at most 24h, got ${flags.grace}`);
  }
  checkHostPort(flags.listen, "--listen", 50051);
  const metricsAt = flags["metrics-listen"] === undefined
    ? undefined
    : checkHostPort(flags["metrics-listen"], "--metrics-listen", 9464);
  const metrics = new Metrics();
  const instance = flags.instance ?? await defaultInstance(flags["data-dir"]);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(instance)) {
    throw new Error(`--instance: not a cgroup name: "${instance}"`);
  }
  const retention = parseRetention(
    flags["retain-hours"],
    flags["retain-bytes"],
    flags["retain-jobs"],
  );
  const tls = await readTlsFiles({
    ca: flags.ca,
    cert: flags.cert,
    key: flags.key,
    crl: flags.crl,
  })
    .catch((err) => {
      throw new Error(
        `cannot read TLS files (for development: deno task certs): ${err.message}`,
      );
    });
  // A bad policy is found now, not at the first start (SIGHUP checks it too).
  if (flags.policy) {
    await loadPolicy(flags.policy).catch((err: Error) => {
      throw new Error((err.cause as Error | undefined)?.message ?? err.message);
    });
  }
  // Only flags that were given: JobRuntime.open spreads its options over its
  // defaults, so an undefined key would replace a default.
  const runtime = await JobRuntime.open({
    dataDir: flags["data-dir"],
    cgroupName: instance,
    log: metrics.observing(log),
    retention,
    ...(flags["max-log-bytes"]
      ? { maxLogBytes: parseSize(flags["max-log-bytes"]) }
      : {}),
    ...(flags.policy ? { policyPath: flags.policy } : {}),
    ...(flags["job-user"]
      ? { jobUser: await parseJobUser(flags["job-user"]) }
      : {}),
    ...(flags["job-uids"] ? { jobUids: parseUidRange(flags["job-uids"]) } : {}),
    ...(flags["job-paths"] !== undefined
      ? { viewPaths: flags["job-paths"].split(",").filter(Boolean) }
      : {}),
  });
  let servedCert = tls.cert;
  warnIfExpiring(servedCert, log);
  // And every day: a server may run for months.
  const daily = setInterval(() => warnIfExpiring(servedCert, log), 86_400_000);
  Deno.unrefTimer(daily);
  const maxConnections = connectionCap(openFileLimit());
  const server = await startServer({
    listen: flags.listen,
    tls,
    runtime,
    log,
    metrics,
    maxConnections,
  })
    .catch(
      async (err) => {
        await runtime.close({ graceMs: 0 });
        throw err;
      },
    );
  let metricsServer: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (metricsAt) {
    try {
      metricsServer = serveMetrics(metrics, runtime, metricsAt);
    } catch (err) {
      await server.close({ keepJobs: true });
      throw new Error(
        `--metrics-listen: cannot listen on ${flags["metrics-listen"]}: ${
          err instanceof Error ? err.message : err
        }`,
      );
    }
    log({
      msg: "serving metrics",
      address: flags["metrics-listen"],
      port: metricsServer.addr.port,
    });
  }
  // SIGHUP: the TLS files and the policy again; a bad file keeps the old.
  Deno.addSignalListener("SIGHUP", async () => {
    try {
      const pem = await readTlsFiles({
        ca: flags.ca,
        cert: flags.cert,
        key: flags.key,
        crl: flags.crl,
      });
      await server.reloadTls(pem);
      log({
        msg: "tls reloaded",
        cert: flags.cert,
        ...(flags.crl ? { crl: flags.crl, revoked: server.revoked() } : {}),
      });
      servedCert = pem.cert;
      warnIfExpiring(pem.cert, log);
    } catch (err) {
      log({
        msg: "tls reload refused: the old certificates stay",
        error: err instanceof Error ? err.message : String(err),
      });
    }
    await runtime.policy().then(
      () => log({ msg: "policy checked", policy: flags.policy ?? "built-in" }),
      (err: Error) =>
        log({
          msg: "policy refused: starts fail until it is fixed",
          error: (err.cause as Error | undefined)?.message ?? err.message,
        }),
    );
  });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: Deno.Signal) => () => {
      log({ msg: "signal", signal });
      server.close({ graceMs, keepJobs: !flags["stop-jobs-on-exit"] })
        .then(resolve);
    };
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, onSignal(signal));
    }
  });
  await stopped;
  clearInterval(daily);
  await metricsServer?.shutdown();
  return 0;
}

/** `value` as HOST:PORT (IPv6 in brackets); throws naming `flag` otherwise. */
function checkHostPort(
  value: string,
  flag: string,
  example: number,
): { hostname: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new Error(
      `${flag}: HOST:PORT with a port, e.g. 127.0.0.1:${example} or [::1]:${example}, got "${value}"`,
    );
  }
  return { hostname: match[1].replace(/^\[|\]$/g, ""), port };
}

if (import.meta.main) {
  const log = stderrLog();
  try {
    Deno.exit(await main(Deno.args, log));
  } catch (err) {
    log({
      msg: "fatal",
      error: err instanceof Error ? err.message : String(err),
    });
    Deno.exit(1);
  }
}
