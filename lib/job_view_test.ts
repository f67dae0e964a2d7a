import { deepEqual, ok, rejects } from "node:assert/strict";
import { JobError } from "./errors.ts";
import { DEFAULT_VIEW_PATHS, resolveViewPaths } from "./job_view.ts";

Deno.test("the default view is the system paths that exist on this host", async () => {
  const paths = await resolveViewPaths();
  ok(paths.includes("/usr") && paths.includes("/etc"), String(paths));
  for (const path of paths) ok(DEFAULT_VIEW_PATHS.includes(path));
});

Deno.test("view paths must be absolute, normalised, present, and leave the job's own mounts alone", async () => {
  deepEqual(await resolveViewPaths(["/usr", "/etc/hosts"]), [
    "/usr",
    "/etc/hosts",
  ]);
  const bad = [
    "usr",
    "/usr/",
    "/usr//lib",
    "/usr/../etc",
    "/",
    "/proc",
    "/dev/null",
    "/var",
    "/work",
    "/tmp",
    "/jw-no-such-path",
  ];
  for (const path of bad) {
    await rejects(
      resolveViewPaths([path]),
      (err) => err instanceof JobError && err.code === "invalid_argument",
      path,
    );
  }
});
