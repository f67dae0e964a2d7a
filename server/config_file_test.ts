import assert from "node:assert/strict";
import { readConfigFile } from "./config_file.ts";

const FLAGS = {
  listen: "string",
  "retain-jobs": "string",
  "stop-jobs-on-exit": "boolean",
} as const;

async function withFile(text: string, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("a config file sets flags by name; numbers are taken for string flags", async () => {
  await withFile(
    JSON.stringify({
      listen: "0.0.0.0:50051",
      "retain-jobs": 20,
      "stop-jobs-on-exit": true,
    }),
    async (path) => {
      assert.deepEqual(await readConfigFile(path, FLAGS), {
        listen: "0.0.0.0:50051",
        "retain-jobs": "20",
        "stop-jobs-on-exit": true,
      });
    },
  );
});

Deno.test("unknown keys, wrong types and broken JSON are errors naming the file and key", async () => {
  await withFile('{"lisen": "x"}', async (path) => {
    await assert.rejects(
      readConfigFile(path, FLAGS),
      new RegExp(`--config ${path}: "lisen" is not a setting`),
    );
  });
  await withFile('{"stop-jobs-on-exit": "yes"}', async (path) => {
    await assert.rejects(readConfigFile(path, FLAGS), /must be true or false/);
  });
  await withFile('{"listen": ["a"]}', async (path) => {
    await assert.rejects(readConfigFile(path, FLAGS), /a string or number/);
  });
  await withFile("{", async (path) => {
    await assert.rejects(readConfigFile(path, FLAGS), /--config/);
  });
  await withFile('{"__proto__": "x"}', async (path) => {
    await assert.rejects(readConfigFile(path, FLAGS), /is not a setting/);
  });
});
