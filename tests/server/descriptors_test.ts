/**
 * A server that has run many jobs holds no more descriptors than it did
 * before them (a launcher pipe left unread used to leak one per job).
 */
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import { spawnMain } from "./_main_process.ts";

Deno.test("the server's open descriptors stay flat over 200 jobs", async () => {
  await using main = await spawnMain();
  const alice = connect(
    `localhost:${main.port}`,
    main.ca,
    await main.pem("alice"),
  );
  // Its log must be read, or a full stderr pipe stops the server.
  const drained = (async () => {
    while (!(await main.lines.next()).done) { /* read on */ }
  })();
  const open = () => [...Deno.readDirSync(`/proc/${main.child.pid}/fd`)].length;
  const run = async () => {
    const { job } = await alice.call("start", { command: "echo", args: ["x"] });
    assert.equal(
      new TextDecoder().decode(
        await alice.readLogs({ jobId: job!.id, follow: true }),
      ),
      "x\n",
    );
  };
  try {
    for (let i = 0; i < 10; i++) await run(); // warm: connections, caches
    const before = open();
    for (let i = 0; i < 20; i++) {
      await Promise.all(Array.from({ length: 10 }, run));
    }
    // Jobs end a moment after their output does.
    let after = open();
    for (let i = 0; i < 50 && after > before + 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = open();
    }
    assert.ok(
      after <= before + 5,
      `descriptors ${before} -> ${after} over 200 jobs`,
    );
  } finally {
    alice.close();
    main.child.kill("SIGTERM");
    await drained;
  }
});
