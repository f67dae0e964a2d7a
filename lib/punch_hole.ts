/**
 * Frees the disk blocks of `length` bytes at `offset` of `path` without
 * changing its size or the offsets after it (`fallocate --punch-hole`, from
 * util-linux; Deno has no fallocate). Reads of the range then return zeros.
 * Throws with the tool's message when the filesystem cannot do it.
 */
export async function punchHole(
  path: string,
  offset: number,
  length: number,
): Promise<void> {
  const { success, stderr } = await new Deno.Command("fallocate", {
    args: [
      "--punch-hole",
      "--keep-size",
      "--offset",
      String(offset),
      "--length",
      String(length),
      path,
    ],
    stdout: "null",
    stderr: "piped",
    clearEnv: true,
  }).output();
  if (!success) {
    throw new Error(
      new TextDecoder().decode(stderr).trim() || "fallocate failed",
    );
  }
}
