import assert from "node:assert/strict";
import { CliError } from "./cli_error.ts";
import {
  DEFAULT_SERVER,
  loadCredentials,
  resolvePaths,
  type Surroundings,
} from "./credentials.ts";
import { UsageError } from "./usage_error.ts";

function around(
  files: string[],
  env: Record<string, string> = {},
): Surroundings {
  return {
    env,
    configDir: "/home/u/.config/jw",
    devDir: "/repo/certs/dev",
    exists: (path) => files.includes(path),
  };
}

Deno.test("flags beat the environment, which beats the defaults", () => {
  const env = {
    JW_SERVER: "env:1",
    JW_CA: "/e/ca",
    JW_CERT: "/e/c",
    JW_KEY: "/e/k",
  };
  assert.deepEqual(resolvePaths({}, around([], env)), {
    server: "env:1",
    ca: "/e/ca",
    cert: "/e/c",
    key: "/e/k",
  });
  assert.deepEqual(
    resolvePaths(
      { server: "flag:1", ca: "/f/ca", cert: "/f/c", key: "/f/k" },
      around([], env),
    ),
    { server: "flag:1", ca: "/f/ca", cert: "/f/c", key: "/f/k" },
  );
});

Deno.test("the config directory is used when it holds ca.pem, with client.pem by default", () => {
  const files = ["/home/u/.config/jw/ca.pem", "/repo/certs/dev/ca.pem"];
  assert.deepEqual(resolvePaths({}, around(files)), {
    server: DEFAULT_SERVER,
    ca: "/home/u/.config/jw/ca.pem",
    cert: "/home/u/.config/jw/client.pem",
    key: "/home/u/.config/jw/client.key",
  });
  assert.equal(
    resolvePaths({}, around(files, { JW_USER: "ops" })).cert,
    "/home/u/.config/jw/ops.pem",
  );
});

Deno.test("the repo's dev set is the fallback, as alice unless JW_USER or --user", () => {
  const files = ["/repo/certs/dev/ca.pem"];
  assert.deepEqual(resolvePaths({}, around(files)), {
    server: DEFAULT_SERVER,
    ca: "/repo/certs/dev/ca.pem",
    cert: "/repo/certs/dev/alice.pem",
    key: "/repo/certs/dev/alice.key",
  });
  assert.equal(
    resolvePaths({}, around(files, { JW_USER: "admin" })).key,
    "/repo/certs/dev/admin.key",
  );
  assert.equal(
    resolvePaths({ user: "bob" }, around(files, { JW_USER: "admin" })).cert,
    "/repo/certs/dev/bob.pem",
  );
  // An explicit cert and key still take the CA from the default directory.
  assert.equal(
    resolvePaths({ cert: "/c", key: "/k" }, around(files)).ca,
    "/repo/certs/dev/ca.pem",
  );
});

Deno.test("missing credentials are one clear error", async () => {
  assert.throws(() => resolvePaths({}, around([])), CliError);
  assert.throws(() => resolvePaths({ cert: "/c" }, around([])), UsageError);
  await assert.rejects(
    loadCredentials(
      { ca: "/nonexistent/ca.pem", cert: "/c", key: "/k" },
      around([]),
    ),
    (err: unknown) =>
      err instanceof CliError &&
      err.message ===
        "cannot read CA certificate /nonexistent/ca.pem: no such file",
  );
});
