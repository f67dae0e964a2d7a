/** Finds task-spooler's binary (`tsp` on Debian, `ts` elsewhere), installing it with apt-get if missing. */
export async function findTaskSpooler(): Promise<
  { path: string; installed: boolean } | { skip: string }
> {
  const found = await which();
  if (found) return { path: found, installed: false };
  const install = () => sh("apt-get install -y -q task-spooler", 120_000);
  let out = await install();
  if (!out.ok) {
    await sh("apt-get update -q", 120_000);
    out = await install();
  }
  const path = await which();
  if (path) return { path, installed: true };
  return {
    skip: `task-spooler is not installed and apt-get could not install it: ${
      out.text.trim().split("\n").slice(-2).join(" / ")
    }`,
  };
}

async function which(): Promise<string | undefined> {
  for (const name of ["tsp", "ts"]) {
    const out = await sh(`command -v ${name} && ${name} -V`, 5_000);
    // moreutils also ships a `ts` (timestamps); only task-spooler answers -V so.
    if (out.ok && /task spooler/i.test(out.text)) {
      return out.text.split("\n")[0];
    }
  }
  return undefined;
}

async function sh(
  script: string,
  timeoutMs: number,
): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `${script} 2>&1`],
      stdin: "null",
      stdout: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    return { ok: out.success, text: new TextDecoder().decode(out.stdout) };
  } catch (err) {
    return { ok: false, text: String(err) };
  }
}
