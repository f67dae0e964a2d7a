import { JobError } from "./errors.ts";

/**
 * Host paths a job sees read-only by default, as Nomad's exec driver puts
 * in its chroot: the programs and libraries, and /etc. Those that do not
 * exist on the host are left out.
 */
export const DEFAULT_VIEW_PATHS: readonly string[] = [
  "/bin",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/sbin",
  "/usr",
];

/** Where the job's working directory appears in its view. */
export const WORK_DIR = "/work";

/** Places of the job's view the launcher makes itself (lib/init/sandbox.c). */
const OWN_MOUNTS = ["/proc", "/sys", "/dev", "/tmp", "/var/tmp", WORK_DIR];

/**
 * The host paths to bind read-only into every job's view: `paths` when
 * given (each must exist), otherwise those of {@link DEFAULT_VIEW_PATHS}
 * that exist. Throws `invalid_argument` for a relative or unnormalised path,
 * one that is missing, or one that would cover a place the launcher mounts
 * itself (`/`, `/proc`, `/var`, ...).
 */
export async function resolveViewPaths(
  paths?: readonly string[],
): Promise<string[]> {
  const wanted = paths ?? DEFAULT_VIEW_PATHS;
  const resolved: string[] = [];
  for (const path of wanted) {
    checkViewPath(path);
    const exists = await Deno.lstat(path).then(() => true, () => false);
    if (exists) resolved.push(path);
    else if (paths) {
      throw new JobError(
        "invalid_argument",
        `job view path ${path} does not exist`,
      );
    }
  }
  return resolved;
}

function checkViewPath(path: string): void {
  const bad = (why: string) =>
    new JobError("invalid_argument", `job view path "${path}" ${why}`);
  if (!path.startsWith("/")) throw bad("is not absolute");
  if (
    path !== "/" &&
    (path.endsWith("/") || path.includes("//") ||
      path.split("/").some((part) => part === "." || part === ".."))
  ) throw bad("is not normalised");
  const covered = OWN_MOUNTS.find((own) =>
    path === "/" || own === path || own.startsWith(`${path}/`) ||
    path.startsWith(`${own}/`) && own !== "/tmp" && own !== "/var/tmp"
  );
  if (covered) throw bad(`would cover the job's own ${covered}`);
}
