/**
 * Authorization, in one place: a caller's view of the job runtime. Handlers
 * reach jobs only through it, so every rule lives here.
 *
 * - Admins start jobs with limits up to the policy ceilings and see every job.
 * - Users start jobs under the policy defaults (asking for limits is
 *   refused), within the policy's user quota, and see only their own jobs.
 *   Another user's job answers exactly like an unknown id, so ids cannot be
 *   probed. Admins have the admin quota (none by default).
 *
 * @module
 */
import {
  type Job,
  JobError,
  type JobInfo,
  type JobRuntime,
  type JobSpec,
} from "../lib/mod.ts";
import type { Identity } from "./identity.ts";

/** What a caller asks for when starting a job (the owner is the caller). */
export type StartRequest = Omit<JobSpec, "owner">;

/**
 * The runtime as one caller may use it.
 *
 * @example
 * ```ts
 * const access = new Access(runtime, { user: "alice", role: "user" });
 * access.job("4d5c9fa91db4"); // NOT_FOUND unless it is alice's
 * ```
 */
export class Access {
  readonly #runtime: JobRuntime;
  readonly caller: Identity;

  constructor(runtime: JobRuntime, caller: Identity) {
    this.#runtime = runtime;
    this.caller = caller;
  }

  get isAdmin(): boolean {
    return this.caller.role === "admin";
  }

  /** Starts a job owned by the caller. */
  async start(request: StartRequest): Promise<Job> {
    if (request.limits && !this.isAdmin) {
      throw new JobError(
        "permission_denied",
        "custom limits need the admin role",
      );
    }
    return await this.#runtime.start(
      { ...request, owner: this.caller.user },
      { customLimits: this.isAdmin, quota: this.isAdmin ? "admin" : "user" },
    );
  }

  /**
   * The job `ref` names among those the caller may see: its id, its name
   * or a unique prefix of its id. `not_found` alike for unknown and foreign
   * jobs, and prefixes count only the caller's.
   */
  job(ref: string): Job {
    return this.#runtime.find(ref, this.isAdmin ? undefined : this.caller.user);
  }

  /** Removes a job the caller may see, once it has ended. */
  async remove(ref: string): Promise<JobInfo> {
    return await this.#runtime.remove(this.job(ref).id);
  }

  /**
   * The caller's jobs; admins: everyone's, or `owner`'s when given. A user
   * naming another owner is refused (`permission_denied`), not quietly
   * shown their own.
   */
  list(owner?: string): Job[] {
    if (!this.isAdmin) {
      if (owner && owner !== this.caller.user) {
        throw new JobError(
          "permission_denied",
          "listing another user's jobs needs the admin role",
        );
      }
      return this.#runtime.list(this.caller.user);
    }
    return this.#runtime.list(owner || undefined);
  }
}
