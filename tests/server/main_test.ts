/**
 * main.ts as a process: serves with the given certificates, survives bad
 * input, and on SIGTERM stops its jobs and exits 0.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureDevCerts } from "../../certs/dev_certs.ts";
import { OwnCgroup } from "../_own_cgroup.ts";
import { concat, connect } from "./client.ts";

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

Deno.test("main.ts serves, survives garbage and disconnects, and exits 0 on SIGTERM", async () => {
  const root = await Deno.makeTempDir({ prefix: "jobworker-main-test-" });
  await Deno.chmod(root, 0o711);
  const certs = join(root, "certs");
  await ensureDevCerts(certs);
  // The server owns its cgroup (on cgroup v2 it refuses to share the test's).
  await using cgroup = await OwnCgroup.create();
  const child = cgroup.command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "--listen=127.0.0.1:0",
      `--ca=${join(certs, "ca.pem")}`,
      `--cert=${join(certs, "server.pem")}`,
      `--key=${join(certs, "server.key")}`,
      `--data-dir=${join(root, "data")}`,
      "--grace=1",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = splitLines(child.stderr);
  const pem = async (name: string) => ({
    cert: await Deno.readTextFile(join(certs, `${name}.pem`)),
    key: await Deno.readTextFile(join(certs, `${name}.key`)),
  });
  const ca = await Deno.readTextFile(join(certs, "ca.pem"));
  let alice: ReturnType<typeof connect> | undefined;
  try {
    const port = await waitListening(lines);
    alice = connect(`localhost:${port}`, ca, await pem("alice"));

    // Garbage bytes, a half-finished TLS hello, and a connection dropped
    // in the middle of a Logs stream.
    for (
      const bytes of [
        crypto.getRandomValues(new Uint8Array(65_536)),
        new Uint8Array([22, 3, 1, 2, 0]),
      ]
    ) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(bytes).catch(() => 0);
      conn.close();
    }
    const { job } = await alice.call("start", {
      command: "sh",
      args: ["-c", "while true; do echo tick; sleep 0.05; done"],
    });
    const dropped = connect(`localhost:${port}`, ca, await pem("alice"));
    const stream = dropped.logs({ jobId: job!.id, follow: true });
    stream.on("error", () => {});
    await new Promise((resolve) => stream.once("data", resolve));
    dropped.close();

    assert.equal((await alice.call("whoAmI", {})).user, "alice");
    // A follower that is surely in flight (it got data) before the signal.
    const follower = alice.logs({ jobId: job!.id, follow: true });
    const parts: Uint8Array[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      follower.on("data", (message) => parts.push(message.data));
      follower.on("end", resolve);
      follower.on("error", reject);
    });
    while (parts.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    child.kill("SIGTERM");
    // The follower ends normally once the job has been stopped.
    await ended;
    assert.match(new TextDecoder().decode(concat(parts)), /^tick\n/);
    const records: Record<string, unknown>[] = [];
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      records.push(JSON.parse(line));
    }
    assert.equal((await child.status).code, 0);
    assert.ok(records.some((r) => r.msg === "stopped"));
    const logs = records.find((r) =>
      r.method === "/jobworker.v1.JobWorker/Logs" && r.code === "OK"
    );
    assert.equal(logs?.identity, "alice");
  } finally {
    alice?.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
