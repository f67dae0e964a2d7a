import { awaitReport, isLauncherOf, readReport } from "./adopt.ts";
import type { CgroupDriver, CgroupManager } from "./cgroup/cgroup_manager.ts";
import { openCgroupDriver } from "./cgroup/detect.ts";
import { DataDir, storageError } from "./data_dir.ts";
import { JobError } from "./errors.ts";
import { DEFAULT_GRACE_MS, Job } from "./job.ts";
import { DiskReserve } from "./disk_reserve.ts";
import { InstanceLock } from "./instance_lock.ts";
import { isJobId, newJobId, parseJobId } from "./job_id.ts";
import { resolveJob } from "./job_reference.ts";
import type { JobInfo, JobSpec } from "./job_info.ts";
import { JobStore } from "./job_store.ts";
import {
  checkUidRange,
  DEFAULT_JOB_UIDS,
  JobUids,
  type UidRange,
} from "./job_uids.ts";
import { resolveViewPaths, WORK_DIR } from "./job_view.ts";
import { DEFAULT_INIT, type ExitStatus, launch } from "./launcher.ts";
import { emptyUsage, type Limits } from "./limits.ts";
import { OutputWatcher } from "./output_watcher.ts";
import { OutputLog } from "./output_log.ts";
import { loadPolicy, type Policy, resolveLimits } from "./policy.ts";
import { pickExpired, type Retention } from "./retention.ts";
import { SeccompPrograms } from "./seccomp_programs.ts";
import {
  checkDiskQuota,
  checkQuota,
  diskAllowance,
  type Quota,
  type Quotas,
} from "./quotas.ts";
import { totalBytes } from "./libc.ts";
import { type CleanSpec, validateSpec } from "./spec.ts";

/** How a {@link JobRuntime} is set up. */
export interface RuntimeOptions {
  /** Where output, job state and default working directories live. */
  dataDir: string;
  /** JSON policy file (see `loadPolicy`); the built-in policy when absent. */
  policyPath?: string;
  /**
   * One fixed account every job runs as. Default: none; each job gets a uid
   * (and gid) of its own from {@link jobUids}.
   */
  jobUser?: { uid: number; gid: number };
  /**
   * The uids (and equal gids) jobs run as, one per job: none may belong to
   * an account or a subordinate id range. Default {@link DEFAULT_JOB_UIDS}.
   */
  jobUids?: UidRange;
  /**
   * Host paths bound read-only into every job's view of the filesystem;
   * default those of `DEFAULT_VIEW_PATHS` (lib/job_view.ts) that exist.
   */
  viewPaths?: string[];
  /** Name of the cgroup made beneath the server's own to hold job cgroups. */
  cgroupName?: string;
  /** The job launcher binary; default build/jw-init. */
  initPath?: string;
  /** When finished jobs are removed; default: kept until removed. */
  retention?: Retention;
  /**
   * Most bytes of each stream of a job kept on disk; beyond it the oldest
   * output is dropped while the job keeps running. Default: no cap.
   */
  maxLogBytes?: number;
  /** Where the runtime tells what it did on its own (records moved aside, …). */
  log?: (record: Record<string, unknown>) => void;
  /**
   * Disk space kept aside for job records, so that a job's final state can
   * be saved when the disk is full (default 1 MiB).
   */
  recordReserveBytes?: number;
}

const DEFAULT_RECORD_RESERVE = 1024 * 1024;

/** How {@link JobRuntime.start} may treat the request. */
export interface StartOptions {
  /** Honour `spec.limits` (admins). Otherwise asking for limits is refused. */
  customLimits?: boolean;
  /**
   * Whose quota of the policy bounds the owner's running jobs. Default:
   * none (the server always names one).
   */
  quota?: keyof Quotas;
}

/** Size of each of a job's tmpfs when its memory is not limited. */
const DEFAULT_TMP_BYTES = 1024 ** 3;
const SEARCH_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** At most one disk-quota check per owner in this many ms while their jobs write. */
const DISK_CHECK_MS = 10;
/** How often retention is applied besides after every job's end. */
const SWEEP_MS = 60_000;

/**
 * Runs jobs: each in its own cgroup (limits from the policy) and namespaces,
 * as an unprivileged user, with its output on disk for any number of
 * readers. Jobs are kept on disk: a new runtime on the same data directory
 * lists and reads every earlier job, and follows jobs that still run.
 *
 * @example
 * ```ts
 * await using runtime = await JobRuntime.open({ dataDir: "/var/lib/jobworker" });
 * const job = await runtime.start({ owner: "alice", command: "echo", args: ["hi"] });
 * for await (const chunk of job.output()) await Deno.stdout.write(chunk.data);
 * ```
 */
export class JobRuntime {
  readonly #data: DataDir;
  readonly #store: JobStore;
  readonly #policyPath?: string;
  readonly #jobUser?: { uid: number; gid: number };
  readonly #uids: JobUids | null;
  readonly #viewPaths: readonly string[];
  readonly #seccomp: SeccompPrograms;
  readonly #log: (record: Record<string, unknown>) => void;
  readonly #lock: InstanceLock;
  readonly #reserve: DiskReserve;
  readonly #initPath: string;
  readonly #retention: Retention;
  readonly #maxLogBytes?: number;
  readonly #driver: CgroupDriver;
  readonly #watcher: OutputWatcher;
  readonly #jobs = new Map<string, Job>();
  /** Starts under way, which close() waits for. */
  readonly #inFlight = new Set<Promise<Job>>();
  /** Ids of jobs between their cgroup's creation and their admission. */
  readonly #launching = new Set<string>();
  /** `owner\0name` of the named starts under way (names are unique). */
  readonly #startingNames = new Set<string>();
  /** Per owner with a disk quota, the bytes their jobs' output may take. */
  readonly #allowances = new Map<string, number>();
  /** Per owner, when their disk use was last checked (performance.now()). */
  readonly #diskChecked = new Map<string, number>();
  /** Disk taken by each ended job's output (see #outputBytes). */
  readonly #endedBytes = new Map<string, number>();
  /** Owners whose disk quota is being enforced now. */
  readonly #enforcing = new Set<string>();
  /** Per owner, the limits of their starts under way (for quotas). */
  readonly #starting = new Map<string, Limits[]>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  private constructor(
    options: RuntimeOptions,
    data: DataDir,
    driver: CgroupDriver,
    viewPaths: readonly string[],
    lock: InstanceLock,
  ) {
    this.#lock = lock;
    this.#data = data;
    this.#reserve = new DiskReserve(
      data.reserve,
      options.recordReserveBytes ?? DEFAULT_RECORD_RESERVE,
    );
    this.#store = new JobStore(data.jobs, this.#reserve, () =>
      this.#log({
        msg:
          "data directory full: a job record was saved in the space kept for records",
      }));
    this.#policyPath = options.policyPath;
    this.#jobUser = options.jobUser;
    this.#uids = options.jobUser
      ? null
      : new JobUids(options.jobUids ?? DEFAULT_JOB_UIDS);
    this.#viewPaths = viewPaths;
    this.#initPath = options.initPath ?? DEFAULT_INIT;
    this.#seccomp = new SeccompPrograms(data.seccomp, this.#initPath);
    this.#log = options.log ?? (() => {});
    this.#retention = options.retention ?? {};
    this.#maxLogBytes = options.maxLogBytes;
    this.#driver = driver;
    this.#watcher = new OutputWatcher(data.logs);
    this.#sweeper = setInterval(() => {
      // Housekeeping never takes the server down: a failure is retried at
      // the next round.
      try {
        this.#refillReserve();
      } catch { /* next round */ }
      this.#sweep().catch(() => {});
      this.#removeStrayCgroups().catch(() => {});
    }, SWEEP_MS);
    Deno.unrefTimer(this.#sweeper);
  }

  /**
   * Prepares the data directory and the job cgroups' parent, and loads the
   * jobs an earlier runtime left: finished ones as they were; running ones
   * are followed again when their launcher still runs, and otherwise killed
   * and marked `lost`.
   */
  static async open(options: RuntimeOptions): Promise<JobRuntime> {
    const viewPaths = await resolveViewPaths(options.viewPaths);
    if (!options.jobUser) {
      await checkUidRange(options.jobUids ?? DEFAULT_JOB_UIDS);
    }
    const data = new DataDir(options.dataDir);
    await data.prepare();
    // One runtime per data directory: a second would adopt the first's
    // jobs and stop them when it closed.
    const lock = InstanceLock.take(data.lock, `data directory ${data.root}`);
    try {
      const driver = await openCgroupDriver({
        name: options.cgroupName ?? "jobworker",
        ioPaths: [data.root],
      });
      const runtime = new JobRuntime(options, data, driver, viewPaths, lock);
      runtime.#refillReserve();
      await runtime.#restore();
      await runtime.#removeStrayCgroups();
      return runtime;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** The policy in force now (the file is read anew at every call). */
  policy(): Promise<Policy> {
    return loadPolicy(this.#policyPath);
  }

  /**
   * Starts a job and resolves once its command runs. Throws
   * `invalid_argument` for a bad spec or limits, `permission_denied` for
   * limits without `customLimits`, `resource_exhausted` when the data
   * directory is full, and `failed_to_start` (with the OS reason) when the
   * command cannot be executed — that job is still recorded, in state
   * `failed_to_start`.
   */
  async start(spec: JobSpec, options: StartOptions = {}): Promise<Job> {
    this.#assertOpen();
    const started = this.#start(spec, options);
    this.#inFlight.add(started);
    try {
      return await started;
    } finally {
      this.#inFlight.delete(started);
    }
  }

  async #start(spec: JobSpec, options: StartOptions): Promise<Job> {
    const policy = await this.policy();
    const clean = validateSpec(spec, policy.requests);
    if (clean.limits && !options.customLimits) {
      throw new JobError(
        "permission_denied",
        "custom limits need the admin role",
      );
    }
    const limits = resolveLimits(policy, clean.limits);
    const seccompProgram = await this.#seccomp.program(policy.seccomp);
    this.#assertOpen();
    const quota = options.quota && policy.quotas[options.quota];
    if (quota) {
      const allowed = diskAllowance(quota, this.#diskSize());
      if (allowed !== undefined) {
        this.#allowances.set(clean.owner, allowed);
        checkDiskQuota(clean.owner, await this.#diskUsed(clean.owner), allowed);
      }
    }
    this.#assertOpen();
    const releaseName = this.#holdName(clean.owner, clean.name);
    let done: () => void;
    try {
      done = this.#holdQuota(clean.owner, limits, quota);
    } catch (err) {
      releaseName();
      throw err;
    }
    const id = this.#freshId();
    this.#launching.add(id);
    try {
      return await this.#launch(
        id,
        clean,
        limits,
        seccompProgram,
        options.quota,
      );
    } finally {
      this.#launching.delete(id);
      done();
      releaseName();
    }
  }

  /**
   * Claims `name` among `owner`'s jobs until the start is done (then the
   * job itself holds it, until removed), with no await in between: two
   * concurrent starts cannot both take it. `already_exists` when taken.
   */
  #holdName(owner: string, name: string | undefined): () => void {
    if (!name) return () => {};
    const key = `${owner}\0${name}`;
    const holder = this.list(owner).find((job) => job.name === name);
    if (holder || this.#startingNames.has(key)) {
      throw new JobError(
        "already_exists",
        `name ${name} is taken by ${
          holder ? `job ${holder.id}` : "a job being started"
        }; remove it or pick another`,
      );
    }
    this.#startingNames.add(key);
    return () => this.#startingNames.delete(key);
  }

  /**
   * Checks `owner`'s quota and counts this start as theirs until it is
   * done, with no await in between: concurrent starts of one owner cannot
   * overshoot it. Returns what ends the reservation.
   */
  #holdQuota(owner: string, limits: Limits, quota?: Quota): () => void {
    const starting = this.#starting.get(owner) ?? [];
    if (quota) {
      const running = this.list(owner)
        .map((job) => job.info())
        .filter((info) => info.state === "running")
        .map((info) => info.limits);
      checkQuota(owner, quota, [...running, ...starting], limits);
    }
    starting.push(limits);
    this.#starting.set(owner, starting);
    return () => {
      starting.splice(starting.indexOf(limits), 1);
      if (!starting.length) this.#starting.delete(owner);
    };
  }

  async #launch(
    id: string,
    clean: CleanSpec,
    limits: Limits,
    seccompProgram: string,
    quota: keyof Quotas | undefined,
  ): Promise<Job> {
    const account = this.#jobUser ?? this.#takeUid();
    const info: JobInfo = {
      id,
      owner: clean.owner,
      name: clean.name ?? "",
      command: clean.command,
      args: clean.args,
      dir: clean.dir ?? WORK_DIR,
      ...(quota ? { quota } : {}),
      uid: account.uid,
      gid: account.gid,
      state: "running",
      oomKilled: false,
      createdAt: new Date(),
      limits,
      usage: emptyUsage(),
      stdoutBytes: 0,
      stderrBytes: 0,
      stdoutDroppedBytes: 0,
      stderrDroppedBytes: 0,
    };
    // The job's files and its cgroup do not depend on each other: made at
    // once, they cost the start the slower of the two, not both.
    const [prepared, created] = await Promise.allSettled([
      this.#prepare(info),
      this.#cgroupWith(id, limits),
    ]);
    if (prepared.status === "rejected" || created.status === "rejected") {
      if (created.status === "fulfilled") {
        await created.value.destroy().catch(() => {});
      }
      // Nothing was launched: leave no record that a restart would take for
      // a job that was running.
      await this.#forget(id);
      this.#releaseUid(info);
      throw prepared.status === "rejected"
        ? storageError(prepared.reason)
        : (created as PromiseRejectedResult).reason;
    }
    const log = prepared.value;
    const cgroup = created.value;
    try {
      this.#watcher.add(id, {
        log,
        grown: () => this.#watchDisk(clean.owner),
      });
      const launched = await launch({
        id,
        command: clean.command,
        args: clean.args,
        env: {
          PATH: SEARCH_PATH,
          HOME: WORK_DIR,
          HOSTNAME: id,
          JW_JOB_ID: id,
          ...clean.env,
        },
        dir: info.dir,
        ...account,
        stdout: log.files.stdout,
        stderr: log.files.stderr,
        index: log.files.index,
        statusFile: this.#data.status(id),
        cgroupProcs: cgroup.procsFiles,
        rootMount: this.#data.rootMount,
        workDir: this.#data.workDir(id),
        viewPaths: this.#viewPaths,
        tmpBytes: limits.memoryBytes || DEFAULT_TMP_BYTES,
        seccompProgram,
      }, this.#initPath);
      info.startedAt = new Date();
      // Saved (fsync included) after start() returns, which saves one fsync
      // of start latency: the record made before the launch already says
      // "running", and from it a restarted server re-adopts the job (or
      // finds it lost) just the same; startedAt is all this save adds.
      return await this.#admit(info, log, cgroup, launched.exit, {
        wait: false,
        cutOutput: launched.cutOutput,
      });
    } catch (err) {
      this.#watcher.delete(id);
      await cgroup.destroy().catch(() => {});
      if (err instanceof JobError && err.code === "failed_to_start") {
        // The job's owner reads this: no paths of the server's in it.
        const reason = this.#hidePaths(err.message);
        await this.#recordFailure(info, log, reason);
        this.#releaseUid(info);
        throw new JobError("failed_to_start", reason, { cause: err });
      }
      await this.#forget(id);
      this.#releaseUid(info);
      throw err;
    }
  }

  /** The job with this id; `not_found` if there is none, `invalid_argument` if malformed. */
  get(id: string): Job {
    const job = this.#jobs.get(parseJobId(id));
    if (!job) throw new JobError("not_found", `job ${id}`);
    return job;
  }

  /**
   * The job `ref` names among every job, or among `owner`'s: an id, a
   * name, or a unique id prefix (see `resolveJob`).
   */
  find(ref: string, owner?: string): Job {
    if (isJobId(ref)) {
      const job = this.#jobs.get(ref);
      if (job && (owner === undefined || job.owner === owner)) return job;
    }
    return resolveJob(this.list(owner), ref);
  }

  /** Every job, or one owner's, oldest first. */
  list(owner?: string): Job[] {
    const all = [...this.#jobs.values()];
    return owner === undefined ? all : all.filter((job) => job.owner === owner);
  }

  /** Removes a finished job and its output; `failed_precondition` while it runs. */
  async remove(id: string): Promise<JobInfo> {
    const job = this.get(id);
    const info = job.info();
    if (info.state === "running") {
      throw new JobError(
        "failed_precondition",
        `job ${id} is running; stop it first`,
      );
    }
    await this.#forget(id);
    return info;
  }

  /**
   * Refuses new starts, lets the starts under way finish, then stops the
   * running jobs (SIGTERM, then kill after `graceMs`) and releases
   * everything. With `keepJobs`, the running jobs are left to run under
   * their launchers instead, for the next runtime on this data directory to
   * re-adopt (a server's restart or upgrade need not cost users their jobs).
   */
  async close(
    options: { graceMs?: number; keepJobs?: boolean } = {},
  ): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.allSettled([...this.#inFlight]);
    const running = this.list().filter((job) => job.info().state === "running");
    if (options.keepJobs) {
      for (const job of running) job.detach();
    } else {
      await Promise.allSettled(
        running.map((job) => job.stop(options.graceMs ?? DEFAULT_GRACE_MS)),
      );
      await Promise.allSettled(running.map((job) => job.done));
    }
    try {
      await this.#store.flush();
      await this.#watcher.close();
      await this.#driver.close();
    } finally {
      this.#lock.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new JobError("unavailable", "the job runtime is shutting down");
    }
  }

  /** `message` with the data directory and launcher paths left out. */
  #hidePaths(message: string): string {
    return message.replaceAll(`${this.#data.root}/`, "")
      .replaceAll(this.#data.root, "the data directory")
      .replaceAll(this.#initPath, "jw-init");
  }

  #takeUid(): { uid: number; gid: number } {
    const uid = this.#uids!.take();
    return { uid, gid: uid };
  }

  /** Gives a job's uid back once it and all it owned are gone. */
  #releaseUid(info: JobInfo): void {
    if (info.uid !== undefined) this.#uids?.release(info.uid);
  }

  #freshId(): string {
    for (;;) {
      const id = newJobId();
      if (!this.#jobs.has(id) && !this.#launching.has(id)) return id;
    }
  }

  /** A new cgroup for job `id` with `limits` applied (none left on failure). */
  async #cgroupWith(id: string, limits: Limits): Promise<CgroupManager> {
    const cgroup = await this.#driver.create(id);
    try {
      await cgroup.apply(limits);
      return cgroup;
    } catch (err) {
      await cgroup.destroy().catch(() => {});
      throw err;
    }
  }

  /**
   * Makes the job's state directory with its record (a full data directory
   * fails the start), working directory (its uid's alone) and empty output,
   * at once (none depends on another).
   */
  async #prepare(info: JobInfo): Promise<OutputLog> {
    const work = this.#data.workDir(info.id);
    const [log] = await Promise.all([
      OutputLog.create(this.#data.output(info.id), this.#maxLogBytes),
      // Not fsynced: it must be there for a server that restarts after a
      // crash (the page cache keeps it), and #admit's save right after the
      // launch syncs it, off the start's path (an fsync took ~8 ms of it).
      Deno.mkdir(this.#store.jobDir(info.id), { mode: 0o700 }).then(() =>
        this.#store.save(info, { sync: false })
      ),
      Deno.mkdir(work, { mode: 0o700 }).then(() =>
        Deno.chown(work, info.uid ?? null, info.gid ?? null)
      ),
    ]);
    return log;
  }

  /** Registers a job that runs (or ran), and saves it. */
  async #admit(
    info: JobInfo,
    log: OutputLog,
    cgroup: CgroupManager | null,
    exit: Promise<ExitStatus> | null,
    { wait = true, cutOutput }: {
      wait?: boolean;
      cutOutput?: () => void;
    } = {},
  ): Promise<Job> {
    const job = new Job(
      info,
      log,
      cgroup,
      exit,
      (j) => this.#ended(j),
      cutOutput,
    );
    this.#jobs.set(info.id, job);
    const saved = this.#store.save(job.info()).catch(() => {});
    if (wait) await saved;
    return job;
  }

  async #recordFailure(
    info: JobInfo,
    log: OutputLog,
    reason: string,
  ): Promise<void> {
    log.finish();
    await Deno.remove(this.#data.workDir(info.id), { recursive: true }).catch(
      () => {},
    );
    const failed: JobInfo = {
      ...info,
      state: "failed_to_start",
      error: reason,
      endedAt: new Date(),
    };
    await this.#admit(failed, log, null, null);
  }

  async #ended(job: Job): Promise<void> {
    this.#watcher.delete(job.id);
    const info = job.info();
    // Its processes died with its PID namespace and its tmpfs with its mount
    // namespace; once its working directory is gone too, nothing is left
    // that its uid owns.
    const work = this.#data.workDir(job.id);
    await Deno.remove(work, { recursive: true }).catch(() => {});
    if (!await Deno.lstat(work).then(() => true, () => false)) {
      this.#releaseUid(info);
    }
    await this.#store.save(info).catch(() => {});
    const owner = info.owner;
    if (info.state === "lost") {
      this.#log({
        msg: "job lost",
        job: info.id,
        owner: info.owner,
        error: info.error,
      });
    }
    await this.#sweep(owner).catch(() => {});
  }

  async #forget(id: string): Promise<void> {
    this.#jobs.delete(id);
    this.#endedBytes.delete(id);
    this.#watcher.delete(id);
    await this.#data.removeJob(id);
    await this.#store.remove(id);
  }

  /** Takes the records' reserve again when it was used and there is room. */
  #refillReserve(): void {
    if (!this.#reserve.fill()) {
      this.#log({
        msg: "no room for the space kept for job records",
        bytes: this.#reserve.bytes,
      });
    }
  }

  /** Applies retention: removes finished jobs past their age or beyond the size budget. */
  async #sweep(onlyOwner?: string): Promise<void> {
    const global = this.#retention.maxAgeMs !== undefined ||
      this.#retention.maxBytes !== undefined ||
      this.#retention.maxJobsPerOwner !== undefined;
    const jobs = await Promise.all(
      (global ? this.list() : this.list(onlyOwner)).map(async (job) => ({
        info: job.info(),
        bytes: await this.#outputBytes(job),
      })),
    );
    const budgets = await this.#diskBudgets(
      onlyOwner === undefined
        ? jobs.map((job) => job.info)
        : jobs.filter((job) => job.info.owner === onlyOwner).map((j) => j.info),
    );
    if (!global && !budgets.size) return;
    const retention = global ? this.#retention : {};
    for (const id of pickExpired(jobs, retention, Date.now(), budgets)) {
      const owner = this.#jobs.get(id)?.owner;
      await this.#forget(id);
      this.#log({ msg: "retention removed job", job: id, owner });
    }
  }

  /**
   * Told as `owner`'s running jobs write: when their jobs' output takes
   * more than their disk quota allows, first that owner's oldest finished
   * jobs go (retention), then, if that is not enough, the output of their
   * running jobs is cut (their launchers drop what follows, as on a full
   * disk, and the jobs' status says so). Never another owner's jobs.
   */
  #watchDisk(owner: string): void {
    const allowed = this.#allowances.get(owner);
    if (allowed === undefined || this.#enforcing.has(owner)) return;
    const now = performance.now();
    if (now - (this.#diskChecked.get(owner) ?? -Infinity) < DISK_CHECK_MS) {
      return;
    }
    this.#diskChecked.set(owner, now);
    if (this.#keptBytes(owner) <= allowed) return;
    this.#enforcing.add(owner);
    this.#enforceDisk(owner, allowed).catch(() => {}).finally(() =>
      this.#enforcing.delete(owner)
    );
  }

  async #enforceDisk(owner: string, allowed: number): Promise<void> {
    // Running jobs that alone take more are cut at once: removing finished
    // jobs cannot help, and each moment more is written.
    const running = this.list(owner).filter((job) =>
      job.info().state === "running"
    );
    if (running.reduce((sum, job) => sum + job.keptBytes(), 0) > allowed) {
      this.#cutOutput(owner, allowed, running);
    }
    await this.#sweep(owner);
    if (this.#keptBytes(owner) > allowed) {
      this.#cutOutput(owner, allowed, this.list(owner));
    }
  }

  #cutOutput(owner: string, allowed: number, jobs: readonly Job[]): void {
    const cut = jobs.filter((job) => job.cutOutput());
    if (!cut.length) return;
    this.#log({
      msg: "disk quota reached: output of running jobs cut",
      owner,
      usedBytes: this.#keptBytes(owner),
      allowedBytes: allowed,
      jobs: cut.map((job) => job.id),
    });
  }

  /** Bytes of disk `owner`'s jobs' output takes, as their logs know it. */
  #keptBytes(owner: string): number {
    return this.list(owner).reduce((sum, job) => sum + job.keptBytes(), 0);
  }

  /** Size of the data directory's filesystem; a storage error when it cannot be read. */
  #diskSize(): number {
    try {
      return totalBytes(this.#data.root);
    } catch (err) {
      throw storageError(err);
    }
  }

  /** Each owner's disk allowance under the policy's quota for their role. */
  async #diskBudgets(jobs: readonly JobInfo[]): Promise<Map<string, number>> {
    const budgets = new Map<string, number>();
    const policy = await this.policy().catch(() => undefined);
    if (!policy) return budgets;
    let size: number;
    try {
      size = this.#diskSize();
    } catch {
      return budgets; // no filesystem to measure: nothing to enforce now
    }
    for (const info of jobs) {
      if (!info.quota || budgets.has(info.owner)) continue;
      const allowed = diskAllowance(policy.quotas[info.quota], size);
      if (allowed !== undefined) budgets.set(info.owner, allowed);
    }
    return budgets;
  }

  /** Bytes of disk `owner`'s jobs' output takes now. */
  async #diskUsed(owner: string): Promise<number> {
    const sizes = await Promise.all(
      this.list(owner).map((job) => this.#outputBytes(job)),
    );
    return sizes.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Bytes of disk a job's output takes: for a running job what its log
   * holds (its launcher writes it from a pipe: it cannot be sparse), for an
   * ended one the blocks its files take, read once (they no longer change).
   * A start and every job's end ask this of all of an owner's jobs: stat
   * calls for each, every time, made a Start of an owner with 300 jobs
   * take 28 ms.
   */
  async #outputBytes(job: Job): Promise<number> {
    if (job.info().state === "running") return job.keptBytes();
    let bytes = this.#endedBytes.get(job.id);
    if (bytes === undefined) {
      bytes = await this.#data.outputBytes(job.id);
      if (this.#jobs.get(job.id) === job) this.#endedBytes.set(job.id, bytes);
    }
    return bytes;
  }

  /**
   * Removes job cgroups no running job owns: one whose removal timed out
   * when its job ended (the kernel can hold an emptied cgroup busy for a
   * while when hundreds end at once), or one a crash left. Whatever still
   * runs in one is killed: it can only be a job's.
   */
  async #removeStrayCgroups(): Promise<void> {
    const names = await this.#driver.list().catch(() => []);
    for (const name of names) {
      if (!isJobId(name) || this.#launching.has(name)) continue;
      if (this.#jobs.get(name)?.info().state === "running") continue;
      const cgroup = await this.#driver.adopt(name).catch(() => null);
      await cgroup?.destroy().catch(() => {});
    }
  }

  /** How a job's output of an older version is converted (see OutputLog.open). */
  #legacy(info: JobInfo): { legacyTime: Date; converted: () => void } {
    return {
      legacyTime: info.startedAt ?? info.createdAt,
      converted: () =>
        this.#log({
          msg: "job output converted to the indexed layout",
          job: info.id,
          note: "its pieces carry the job's start time",
        }),
    };
  }

  /** Loads the jobs an earlier runtime left in the data directory. */
  async #restore(): Promise<void> {
    const { jobs, broken } = await this.#store.loadAll(this.#data.corrupt);
    for (const { name, reason } of broken) {
      this.#log({
        msg: "job record moved aside",
        entry: name,
        to: this.#data.corrupt,
        error: reason,
      });
    }
    const running = jobs.filter((info) => info.state === "running");
    for (const [owner, allowed] of await this.#diskBudgets(running)) {
      this.#allowances.set(owner, allowed);
    }
    const newest = jobs.at(-1)?.uid;
    if (newest !== undefined) this.#uids?.continueAfter(newest);
    for (const info of jobs) {
      if (info.state !== "running") {
        const log = await OutputLog.open(this.#data.output(info.id), {
          complete: true,
          ...this.#legacy(info),
        });
        this.#jobs.set(info.id, new Job(info, log, null, null, () => {}));
        continue;
      }
      await this.#readopt(info);
      this.#log({ msg: "job re-adopted", job: info.id, owner: info.owner });
    }
  }

  /**
   * A job that was running when the earlier server stopped: followed again
   * if its launcher still runs (it records how the job ends); if it ended
   * meanwhile, finished from its launcher's report; otherwise its processes
   * are killed with its cgroup and it is marked `lost`.
   */
  async #readopt(info: JobInfo): Promise<void> {
    const id = info.id;
    if (info.uid !== undefined) this.#uids?.claim(info.uid);
    const statusPath = this.#data.status(id);
    const cgroup = await this.#driver.adopt(id).catch(() => null);
    const log = await OutputLog.open(this.#data.output(id), {
      complete: false,
      cap: this.#maxLogBytes,
      ...this.#legacy(info),
    });
    const report = await readReport(statusPath);
    let exit: Promise<ExitStatus>;
    let statusChanged: (() => void) | undefined;
    if (report.kind === "exited" || report.kind === "signaled") {
      exit = Promise.resolve(report);
    } else if (
      report.kind === "started" && await isLauncherOf(report.launcher, id)
    ) {
      exit = awaitReport(
        statusPath,
        id,
        report.launcher,
        (changed) => statusChanged = changed,
      );
    } else {
      exit = Promise.reject(
        new Error(
          "the server restarted and the job's launcher was gone; its processes were killed",
        ),
      );
    }
    this.#watcher.add(id, {
      log,
      statusChanged,
      grown: () => this.#watchDisk(info.owner),
    });
    const launcher = report.kind === "started" ? report.launcher : undefined;
    await this.#admit(info, log, cgroup, exit, {
      cutOutput: launcher === undefined ? undefined : () =>
        // Not our child: signalled only while it is still this job's.
        void isLauncherOf(launcher, id).then((ours) => {
          if (ours) Deno.kill(launcher, "SIGUSR2");
        }).catch(() => {}),
    });
  }
}
