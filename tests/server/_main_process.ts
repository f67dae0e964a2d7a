/**
 * main.ts as a child process, for tests: fresh dev certificates and data
 * directory, a cgroup of its own, optionally a lower open-file limit.
 */
import { join } from "node:path";
import { ensureDevCerts } from "../../certs/dev_certs.ts";
import { createCrl } from "../../certs/pki.ts";
import { OwnCgroup } from "../_own_cgroup.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Reads stderr lines until one is the JSON "listening" record. */
async function waitListening(lines: AsyncIterator<string>): Promise<number> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error("server exited before listening");
    const record = JSON.parse(value);
    if (record.msg === "listening") return record.port;
  }
}

async function* splitLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines.filter((line) => line.trim());
  }
}

/** main.ts running as a child process in a cgroup of its own. */
export interface MainProcess {
  child: Deno.ChildProcess;
  /** The server's stderr, line by line, after the "listening" record. */
  lines: AsyncIterator<string>;
  port: number;
  certs: string;
  ca: string;
  pem(name: string): Promise<{ cert: string; key: string }>;
  /** What a second server on the same data directory needs (see `after`). */
  readonly shared: { root: string; cgroup: OwnCgroup; instance: string };
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts main.ts with fresh dev certificates and data directory, or, with
 * `after`, on the data directory, certificates, cgroup and instance of an
 * earlier server (started where a service manager would restart it; the
 * earlier one's disposal removes them).
 */
export async function spawnMain(
  options: {
    openFiles?: number;
    keepJobs?: boolean;
    after?: MainProcess;
    /** More flags for main.ts. */
    args?: string[];
    /** Serve with `--crl certs/crl.pem`, an empty list of the dev CA at first. */
    crl?: boolean;
  } = {},
): Promise<MainProcess> {
  const shared = options.after?.shared ?? {
    root: await Deno.makeTempDir({ prefix: "jobworker-main-test-" }),
    // The server owns its cgroup (on cgroup v2 it refuses to share the test's).
    cgroup: await OwnCgroup.create(),
    instance: `jwmain-${crypto.randomUUID().slice(0, 8)}`,
  };
  const { root, cgroup, instance } = shared;
  const certs = join(root, "certs");
  let child: Deno.ChildProcess | undefined;
  const dispose = async () => {
    try {
      child?.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child?.status;
    if (options.after) return;
    await cgroup[Symbol.asyncDispose]();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    await ensureDevCerts(certs);
    if (options.crl) {
      const ca = {
        cert: await Deno.readTextFile(join(certs, "ca.pem")),
        key: await Deno.readTextFile(join(certs, "ca.key")),
      };
      await Deno.writeTextFile(join(certs, "crl.pem"), await createCrl(ca, []));
    }
    const server = [
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      "--listen=127.0.0.1:0",
      `--ca=${join(certs, "ca.pem")}`,
      `--cert=${join(certs, "server.pem")}`,
      `--key=${join(certs, "server.key")}`,
      `--data-dir=${join(root, "data")}`,
      "--grace=1",
      `--instance=${instance}`,
      // Tests end their servers with SIGTERM: their jobs go too, unless a
      // test wants them left for the next server.
      ...(options.keepJobs ? [] : ["--stop-jobs-on-exit"]),
      ...options.crl ? [`--crl=${join(certs, "crl.pem")}`] : [],
      ...options.args ?? [],
    ];
    // prlimit (util-linux) sets soft and hard limit, as a service manager would.
    const command = options.openFiles
      ? ["prlimit", `--nofile=${options.openFiles}`, "--", ...server]
      : server;
    child = cgroup.command(command[0], {
      args: command.slice(1),
      stdout: "null",
      stderr: "piped",
    }, options.after ? `${instance}-server` : undefined).spawn();
    const lines = splitLines(child.stderr);
    const port = await waitListening(lines);
    return {
      child,
      lines,
      port,
      certs,
      ca: await Deno.readTextFile(join(certs, "ca.pem")),
      pem: async (name) => ({
        cert: await Deno.readTextFile(join(certs, `${name}.pem`)),
        key: await Deno.readTextFile(join(certs, `${name}.key`)),
      }),
      shared,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
