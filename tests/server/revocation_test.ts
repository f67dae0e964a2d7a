/**
 * Revocation through a real server process: a certificate revoked by the CA
 * is refused once the server has read the new list (SIGHUP), on new
 * connections and at each call on open ones, while running jobs and open
 * streams carry on; a list that is not the CA's is refused and the old one
 * stays.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { revokeClient } from "../../certs/dev_certs.ts";
import { createCa, createCrl } from "../../certs/pki.ts";
import { connect } from "./client.ts";
import { spawnMain } from "./_main_process.ts";

Deno.test("a revoked client certificate is refused after SIGHUP; jobs and open streams carry on", async () => {
  await using main = await spawnMain({ crl: true });
  const records: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const drained = (async () => {
    for (;;) {
      const next = await main.lines.next();
      if (next.done) break;
      records.push(JSON.parse(next.value));
      waiters.splice(0).forEach((wake) => wake());
    }
  })();
  const logged = async (msg: string, count: number) => {
    while (records.filter((r) => r.msg === msg).length < count) {
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return records.filter((r) => r.msg === msg).at(-1)!;
  };
  const address = `localhost:${main.port}`;
  const alice = connect(address, main.ca, await main.pem("alice"));
  const bob = connect(address, main.ca, await main.pem("bob"));
  try {
    const { job } = await alice.call("start", {
      command: "sh",
      args: ["-c", "while true; do echo tick; sleep 0.05; done"],
    });
    const stream = alice.logs({ jobId: job!.id, follow: true });
    let ticks = 0;
    stream.on("data", () => ticks++);
    stream.on("error", () => {});
    while (ticks === 0) await new Promise((r) => setTimeout(r, 20));

    await revokeClient(main.certs, join(main.certs, "alice.pem"));
    main.child.kill("SIGHUP");
    assert.equal((await logged("tls reloaded", 1)).revoked, 1);

    // Her open connection: each new call is refused.
    await assert.rejects(
      alice.call("whoAmI", {}),
      (err: { code: number; details: string }) =>
        err.code === 7 && /certificate is revoked/.test(err.details),
    );
    // A new connection with her certificate is refused, and told why.
    const again = connect(address, main.ca, await main.pem("alice"));
    await assert.rejects(
      again.call("whoAmI", {}),
      (err: { code: number; details: string }) =>
        err.code === 16 &&
        err.details ===
          "the server refused your certificate: revoked by the CA",
    );
    again.close();
    assert.ok(
      records.some((r) =>
        r.msg === "connection refused" && r.reason === "revoked"
      ),
    );
    // Bob is not affected; alice's job runs on and her open stream still flows.
    assert.equal((await bob.call("whoAmI", {})).user, "bob");
    const seen = ticks;
    while (ticks === seen) await new Promise((r) => setTimeout(r, 20));

    // A list signed by another CA is refused; the old one stays in force.
    const other = await createCa({ cn: "not our CA" });
    await Deno.writeTextFile(
      join(main.certs, "crl.pem"),
      await createCrl(other, []),
    );
    main.child.kill("SIGHUP");
    const refused = await logged(
      "tls reload refused: the old certificates stay",
      1,
    );
    assert.match(String(refused.error), /not by the CA/);
    await assert.rejects(alice.call("whoAmI", {}));
    stream.cancel();
  } finally {
    alice.close();
    bob.close();
    main.child.kill("SIGTERM");
    await drained;
  }
});
