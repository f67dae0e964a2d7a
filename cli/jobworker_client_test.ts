import assert from "node:assert/strict";
import { ipLiteral } from "./jobworker_client.ts";

Deno.test("ipLiteral finds an IP address to check against the certificate's IP SANs", () => {
  assert.equal(ipLiteral("127.0.0.1:50051"), "127.0.0.1");
  assert.equal(ipLiteral("[::1]:50051"), "::1");
  assert.equal(ipLiteral("localhost:50051"), undefined);
  assert.equal(ipLiteral("jw.example.com:443"), undefined);
});
