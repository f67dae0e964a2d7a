import { ensureDevCerts } from "../certs/dev_certs.ts";
import { removeCgroups } from "./_cgroup_leftovers.ts";
import type { Pem } from "../certs/pki.ts";
import { connect, type TestClient } from "../tests/server/client.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** A server process started by {@link spawnServer}. */
export interface ServerChild extends AsyncDisposable {
  address: string;
  pid: number;
  certs: string;
  /** Resident set size of the server process, bytes. */
  rss(): number;
  /** CPU time (user + system) of the server process so far, ms. */
  cpuMs(): number;
  client(name: string): Promise<TestClient>;
  /**
   * Closes clients and stops the server (SIGTERM). Returns a note when it
   * did not exit cleanly; its leftover job cgroups are then removed here.
   */
  close(): Promise<string | null>;
}

/**
 * Starts bench/_server_process.ts (`kind` jobworker or bare) with fresh dev
 * certificates under `dir`, and waits until it listens.
 */
export async function spawnServer(
  kind: "jobworker" | "bare",
  dir: string,
  options: { cgroup?: string; size?: number } = {},
): Promise<ServerChild> {
  const certs = `${dir}/certs`;
  await ensureDevCerts(certs);
  const data = `${dir}/data-${kind}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${HERE}_server_process.ts`,
      "--kind",
      kind,
      "--certs",
      certs,
      "--data",
      data,
      "--cgroup",
      options.cgroup ?? "",
      "--size",
      String(options.size ?? 0),
    ],
    stdin: "null",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} server exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { port } = JSON.parse(text.split("\n")[0]);
  const clients: TestClient[] = [];
  const pem = async (name: string): Promise<Pem> => ({
    cert: await Deno.readTextFile(`${certs}/${name}.pem`),
    key: await Deno.readTextFile(`${certs}/${name}.key`),
  });
  const ca = await Deno.readTextFile(`${certs}/ca.pem`);
  const address = `localhost:${port}`;
  let closing: Promise<string | null> | undefined;
  const stop = async (): Promise<string | null> => {
    clients.forEach((c) => c.close());
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 20_000);
    const status = await child.status;
    clearTimeout(timer);
    if (status.success) return null;
    const left = options.cgroup ? await removeCgroups(options.cgroup) : [];
    return `The ${kind} server process did not exit cleanly on SIGTERM (${
      status.signal ?? `exit ${status.code}`
    })${
      left.length
        ? `; its job cgroups (${left.length}) were removed by the bench`
        : ""
    }. See the run's stderr.`;
  };
  const close = () => closing ??= stop();
  return {
    address,
    pid: child.pid,
    certs,
    rss: () => {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
    },
    cpuMs: () => {
      const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime, in clock ticks (100 per second on Linux).
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    async client(name) {
      const client = connect(address, ca, await pem(name));
      clients.push(client);
      return client;
    },
    close,
    async [Symbol.asyncDispose]() {
      await close();
    },
  };
}
