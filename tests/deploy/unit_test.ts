// The systemd unit in deploy/ is one systemd accepts (systemd-analyze verify,
// here Debian 12's systemd 252), with the paths of this checkout.
import { deepEqual, match } from "node:assert/strict";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const hasAnalyze = await new Deno.Command("sh", {
  args: ["-c", "command -v systemd-analyze"],
  stdout: "null",
}).output().then((out) => out.success, () => false);

Deno.test({
  name: "deploy/jobworker.service passes systemd-analyze verify",
  ignore: !hasAnalyze,
  async fn() {
    const unit = await Deno.readTextFile(`${REPO}/deploy/jobworker.service`);
    match(unit, /^Delegate=yes$/m);
    match(unit, /^KillMode=process$/m);
    const dir = await Deno.makeTempDir({ prefix: "jw-unit-" });
    try {
      await Deno.writeTextFile(
        `${dir}/jobworker.service`,
        unit.replaceAll("/opt/jobworker", REPO),
      );
      const out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/jobworker.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      const ours = text.split("\n").filter((l) => l.includes("jobworker"));
      deepEqual(ours, [], text);
      deepEqual(out.code, 0, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
