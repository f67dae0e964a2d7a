import { JobError } from "./errors.ts";
import { launcherError } from "./launcher.ts";
import type { SeccompChanges } from "./policy.ts";

/**
 * The jobs' seccomp filters, compiled once per policy: compiling the rules
 * with libseccomp costs each launch ~0.9 ms, loading a compiled program
 * ~0.2 ms. Each runtime compiles anew (with the launcher it runs, which may
 * be newer than the files an earlier server left) into `dir`.
 */
export class SeccompPrograms {
  readonly #dir: string;
  readonly #initPath: string;
  readonly #built = new Map<string, Promise<string>>();

  constructor(dir: string, initPath: string) {
    this.#dir = dir;
    this.#initPath = initPath;
  }

  /**
   * The path of the compiled filter for `changes`; throws
   * `failed_precondition` when they name a system call the launcher does
   * not know.
   */
  program(changes: SeccompChanges = {}): Promise<string> {
    const allow = [...changes.allow ?? []].sort();
    const deny = [...changes.deny ?? []].sort();
    const key = JSON.stringify([allow, deny]);
    let built = this.#built.get(key);
    if (!built) {
      built = this.#compile(key, allow, deny);
      this.#built.set(key, built);
      built.catch(() => this.#built.delete(key));
    }
    return built;
  }

  async #compile(
    key: string,
    allow: string[],
    deny: string[],
  ): Promise<string> {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(key),
    );
    const name = [...new Uint8Array(digest).slice(0, 8)]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const path = `${this.#dir}/${name}.bpf`;
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(this.#initPath, {
        args: [
          "--export-seccomp",
          path,
          ...allow.flatMap((call) => ["--allow", call]),
          ...deny.flatMap((call) => ["--deny", call]),
        ],
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    } catch (err) {
      // A launcher that cannot be run at all (a spawn error, thrown at once).
      throw launcherError(this.#initPath, err);
    }
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim()
        .replace(/^failed /, "");
      throw new JobError("failed_precondition", `the server's ${why}`);
    }
    return path;
  }
}
