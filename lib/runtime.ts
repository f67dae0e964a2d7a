import type { CgroupDriver } from "./cgroup/cgroup_manager.ts";
import { openCgroupDriver } from "./cgroup/detect.ts";
import { JobError } from "./errors.ts";
import { DEFAULT_GRACE_MS, Job } from "./job.ts";
import { newJobId, parseJobId } from "./job_id.ts";
import type { JobInfo, JobSpec } from "./job_info.ts";
import { DEFAULT_INIT, launch } from "./launcher.ts";
import { emptyUsage } from "./limits.ts";
import { LogWatcher } from "./log_watcher.ts";
import { OutputLog } from "./output_log.ts";
import { loadPolicy, type Policy, resolveLimits } from "./policy.ts";
import { validateSpec } from "./spec.ts";

/** How a {@link JobRuntime} is set up. */
export interface RuntimeOptions {
  /** Where output, job state and default working directories live. */
  dataDir: string;
  /** JSON policy file (see `loadPolicy`); the built-in policy when absent. */
  policyPath?: string;
  /** Who jobs run as; default nobody/nogroup (65534). */
  jobUser?: { uid: number; gid: number };
  /** Name of the cgroup made beneath the server's own to hold job cgroups. */
  cgroupName?: string;
  /** The job launcher binary; default build/jw-init. */
  initPath?: string;
}

/** How {@link JobRuntime.start} may treat the request. */
export interface StartOptions {
  /** Honour `spec.limits` (admins). Otherwise asking for limits is refused. */
  customLimits?: boolean;
}

type FullOptions = Required<Omit<RuntimeOptions, "policyPath">> & {
  policyPath?: string;
};

const SEARCH_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Runs jobs: each in its own cgroup (limits from the policy) and namespaces,
 * as an unprivileged user, with its output on disk for any number of
 * readers.
 *
 * @example
 * ```ts
 * await using runtime = await JobRuntime.open({ dataDir: "/var/lib/jobworker" });
 * const job = await runtime.start({ owner: "alice", command: "echo", args: ["hi"] });
 * for await (const chunk of job.output()) await Deno.stdout.write(chunk.data);
 * ```
 */
export class JobRuntime {
  readonly #options: FullOptions;
  readonly #driver: CgroupDriver;
  readonly #watcher: LogWatcher;
  readonly #jobs = new Map<string, Job>();
  #closed = false;

  private constructor(
    options: FullOptions,
    driver: CgroupDriver,
    watcher: LogWatcher,
  ) {
    this.#options = options;
    this.#driver = driver;
    this.#watcher = watcher;
  }

  /** Prepares the data directory and the job cgroups' parent. */
  static async open(options: RuntimeOptions): Promise<JobRuntime> {
    const full: FullOptions = {
      jobUser: { uid: 65534, gid: 65534 },
      cgroupName: "jobworker",
      initPath: DEFAULT_INIT,
      ...options,
    };
    const dirs = dataDirs(full.dataDir);
    await Deno.mkdir(full.dataDir, { recursive: true, mode: 0o711 });
    await Deno.chmod(full.dataDir, 0o711);
    await Deno.mkdir(dirs.logs, { recursive: true, mode: 0o700 });
    await Deno.mkdir(dirs.jobs, { recursive: true, mode: 0o700 });
    await Deno.mkdir(dirs.work, { recursive: true, mode: 0o711 });
    const driver = await openCgroupDriver({
      name: full.cgroupName,
      ioPaths: [full.dataDir],
    });
    return new JobRuntime(full, driver, new LogWatcher(dirs.logs));
  }

  /** The policy in force now (the file is read anew at every call). */
  policy(): Promise<Policy> {
    return loadPolicy(this.#options.policyPath);
  }

  /**
   * Starts a job and resolves once its command runs. Throws
   * `invalid_argument` for a bad spec or limits, `permission_denied` for
   * limits without `customLimits`, and `failed_to_start` (with the OS
   * reason) when the command cannot be executed — that job is still
   * recorded, in state `failed_to_start`.
   */
  async start(spec: JobSpec, options: StartOptions = {}): Promise<Job> {
    this.#assertOpen();
    const clean = validateSpec(spec);
    if (clean.limits && !options.customLimits) {
      throw new JobError(
        "permission_denied",
        "custom limits need the admin role",
      );
    }
    const limits = resolveLimits(await this.policy(), clean.limits);
    const id = this.#freshId();
    const paths = jobPaths(this.#options.dataDir, id);
    const { uid, gid } = this.#options.jobUser;
    const dir = clean.dir ?? paths.work;
    if (!clean.dir) {
      await Deno.mkdir(paths.work, { mode: 0o700 });
      await Deno.chown(paths.work, uid, gid);
    }
    await Deno.mkdir(paths.state, { mode: 0o700 });
    const log = await OutputLog.create(paths.output);
    const info: JobInfo = {
      id,
      owner: clean.owner,
      name: clean.name ?? "",
      command: clean.command,
      args: clean.args,
      dir,
      state: "running",
      oomKilled: false,
      createdAt: new Date(),
      limits,
      usage: emptyUsage(),
      stdoutBytes: 0,
      stderrBytes: 0,
    };
    const cgroup = await this.#driver.create(id);
    try {
      await cgroup.apply(limits);
      this.#watcher.add(id, log);
      const launched = await launch({
        id,
        command: clean.command,
        args: clean.args,
        env: {
          PATH: SEARCH_PATH,
          HOME: dir,
          HOSTNAME: id,
          JW_JOB_ID: id,
          ...clean.env,
        },
        dir,
        uid,
        gid,
        stdout: paths.output.stdout,
        stderr: paths.output.stderr,
        statusFile: paths.status,
        cgroupProcs: cgroup.procsFiles,
      }, this.#options.initPath);
      info.startedAt = new Date();
      const job = new Job(
        info,
        log,
        cgroup,
        launched.exit,
        (j) => this.#ended(j),
      );
      this.#jobs.set(id, job);
      return job;
    } catch (err) {
      this.#watcher.delete(id);
      await cgroup.destroy().catch(() => {});
      if (err instanceof JobError && err.code === "failed_to_start") {
        this.#recordFailure(info, log, err.message);
      }
      await removeWork(paths.work, clean.dir);
      throw err;
    }
  }

  /** The job with this id; `not_found` if there is none, `invalid_argument` if malformed. */
  get(id: string): Job {
    const job = this.#jobs.get(parseJobId(id));
    if (!job) throw new JobError("not_found", `job ${id}`);
    return job;
  }

  /** Every job, or one owner's, oldest first. */
  list(owner?: string): Job[] {
    const all = [...this.#jobs.values()];
    return owner === undefined ? all : all.filter((job) => job.owner === owner);
  }

  /** Stops running jobs (SIGTERM, then kill after `graceMs`) and releases everything. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running = this.list().filter((job) => job.info().state === "running");
    await Promise.allSettled(
      running.map((job) => job.stop(options.graceMs ?? DEFAULT_GRACE_MS)),
    );
    await this.#watcher.close();
    await this.#driver.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new JobError("unavailable", "the job runtime is shutting down");
    }
  }

  #freshId(): string {
    for (;;) {
      const id = newJobId();
      if (!this.#jobs.has(id)) return id;
    }
  }

  #recordFailure(info: JobInfo, log: OutputLog, reason: string): void {
    log.finish();
    const failed: JobInfo = {
      ...info,
      state: "failed_to_start",
      error: reason,
      endedAt: new Date(),
    };
    this.#jobs.set(info.id, new Job(failed, log, null, null, () => {}));
  }

  async #ended(job: Job): Promise<void> {
    this.#watcher.delete(job.id);
    const paths = jobPaths(this.#options.dataDir, job.id);
    await removeWork(
      paths.work,
      job.info().dir === paths.work ? undefined : job.info().dir,
    );
  }
}

/** Removes the job's own working directory (never one the caller named). */
async function removeWork(
  work: string,
  requestedDir: string | undefined,
): Promise<void> {
  if (requestedDir) return;
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

function dataDirs(dataDir: string) {
  return {
    logs: `${dataDir}/logs`,
    jobs: `${dataDir}/jobs`,
    work: `${dataDir}/work`,
  };
}

function jobPaths(dataDir: string, id: string) {
  const dirs = dataDirs(dataDir);
  return {
    output: {
      stdout: `${dirs.logs}/${id}.out`,
      stderr: `${dirs.logs}/${id}.err`,
      segments: `${dirs.logs}/${id}.seg`,
    },
    state: `${dirs.jobs}/${id}`,
    status: `${dirs.jobs}/${id}/status`,
    work: `${dirs.work}/${id}`,
  };
}
