import { deepEqual, match } from "node:assert/strict";
import { ensureDevCerts } from "../certs/dev_certs.ts";
import { warnIfExpiring } from "./cert_expiry.ts";

Deno.test("the server's certificate is warned about in its last 14 days, and once expired", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jw-expiry-" });
  try {
    await ensureDevCerts(dir);
    const pem = await Deno.readTextFile(`${dir}/server.pem`);
    const records: Record<string, unknown>[] = [];
    const days = warnIfExpiring(pem, (r) => records.push(r));
    deepEqual(records.length, 0, "a fresh certificate is not warned about");
    const day = 86_400_000;
    const soon = new Date(Date.now() + (days - 3) * day);
    warnIfExpiring(pem, (r) => records.push(r), soon);
    const later = new Date(Date.now() + (days + 1) * day);
    warnIfExpiring(pem, (r) => records.push(r), later);
    deepEqual(records.map((r) => r.days), [2, -2]);
    match(String(records[0].msg), /expires soon/);
    match(String(records[1].msg), /has expired/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
