import { JobError } from "./errors.ts";

/** A closed range of uids (and the same gids) jobs run as, one each. */
export interface UidRange {
  first: number;
  last: number;
}

/**
 * The default range: 65,536 ids high in the space systemd leaves unused
 * (above its container ranges, below 2^31), clear of accounts, of
 * DynamicUser= and of the subordinate ids useradd hands out (from 100000).
 */
export const DEFAULT_JOB_UIDS: UidRange = {
  first: 2_000_000_000,
  last: 2_000_065_535,
};

/** Parses `FIRST-LAST` (e.g. `200000-265535`); throws `invalid_argument`. */
export function parseUidRange(text: string): UidRange {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1 || last < first || last >= 2 ** 32 - 1) {
    throw new JobError(
      "invalid_argument",
      `job uid range must be FIRST-LAST with 0 < FIRST <= LAST < 4294967295, got "${text}"`,
    );
  }
  return { first, last };
}

/** Files whose ids a job uid must never share. */
const ACCOUNT_FILES = [
  "/etc/passwd",
  "/etc/group",
  "/etc/subuid",
  "/etc/subgid",
];

/**
 * Throws `invalid_argument` when `range` holds the id of an account or
 * group, or overlaps a subordinate id range (whose owner's containers could
 * then own a job's files).
 */
export async function checkUidRange(
  range: UidRange,
  files: readonly string[] = ACCOUNT_FILES,
): Promise<void> {
  for (const path of files) {
    const text = await Deno.readTextFile(path).catch(() => "");
    for (const line of text.split("\n")) {
      const fields = line.split(":");
      const sub = path.includes("/sub");
      const first = Number(fields[sub ? 1 : 2]);
      const last = sub ? first + Number(fields[2]) - 1 : first;
      if (!line || !Number.isInteger(first) || !Number.isInteger(last)) {
        continue;
      }
      if (first <= range.last && last >= range.first) {
        throw new JobError(
          "invalid_argument",
          `job uid range ${range.first}-${range.last} overlaps ${
            sub ? "the subordinate ids" : "the id"
          } of ${fields[0]} (${sub ? `${first}-${last}` : first}) in ${path}`,
        );
      }
    }
  }
}

/**
 * Hands out one uid per job from a range. A uid goes back to the pool only
 * when released, which the runtime does once the job ended and every file
 * the uid owned is gone (the job's processes die with its PID namespace, its
 * tmpfs with its mount namespace, and its working directory is removed).
 * Allocation goes round the range, so a released uid is the last to be
 * reused.
 */
export class JobUids {
  readonly range: UidRange;
  readonly #used = new Set<number>();
  #next: number;

  constructor(range: UidRange) {
    this.range = range;
    this.#next = range.first;
  }

  /** A free uid, now taken; `resource_exhausted` when there is none. */
  take(): number {
    const size = this.range.last - this.range.first + 1;
    for (let i = 0; i < size && this.#used.size < size; i++) {
      const uid = this.#next;
      this.#next = uid === this.range.last ? this.range.first : uid + 1;
      if (!this.#used.has(uid)) {
        this.#used.add(uid);
        return uid;
      }
    }
    throw new JobError(
      "resource_exhausted",
      `no free job uid (all ${size} of ${this.range.first}-${this.range.last} are in use)`,
    );
  }

  /** Marks `uid` taken (a job a restarted server found still holding it). */
  claim(uid: number): void {
    if (uid >= this.range.first && uid <= this.range.last) this.#used.add(uid);
  }

  /**
   * Goes on from just after `uid` (the newest job's, when a restarted server
   * loads its records), so what was released before the restart is still
   * the last to be reused.
   */
  continueAfter(uid: number): void {
    if (uid >= this.range.first && uid < this.range.last) this.#next = uid + 1;
    else this.#next = this.range.first;
  }

  /** Gives `uid` back. */
  release(uid: number): void {
    this.#used.delete(uid);
  }

  /** How many uids are taken. */
  get inUse(): number {
    return this.#used.size;
  }
}
