import type { Limits, Usage } from "./limits.ts";

/** 12 lowercase hex characters, random (see {@link newJobId}). */
export type JobId = string;

/** Where a job is in its life. */
export type JobState =
  | "running"
  | "exited"
  | "signaled"
  | "stopped"
  | "failed_to_start"
  /** It was running when its server died, and could not be followed again. */
  | "lost";

/** One of the job's two output streams. */
export type StreamName = "stdout" | "stderr";

/** What a caller asks for when starting a job. */
export interface JobSpec {
  /** Who owns the job (the certificate CN at the API). */
  owner: string;
  /** Program to run: an absolute path, or a name looked up in the job's PATH. */
  command: string;
  args?: string[];
  /** Added to the job's clean environment (PATH, HOME, ...), overriding it. */
  env?: Record<string, string>;
  /**
   * Working directory inside the job's view of the filesystem; default
   * `/work`, a fresh directory only the job's uid can enter.
   */
  dir?: string;
  /** Optional human name. */
  name?: string;
  /** Requested limits; absent fields take the policy defaults. */
  limits?: Limits;
}

/** A snapshot of a job, safe to hand out (plain data). */
export interface JobInfo {
  id: JobId;
  owner: string;
  name: string;
  command: string;
  args: string[];
  /** Working directory inside the job's view (its own is `/work`). */
  dir: string;
  /** Whose quota of the policy the job counts under (its owner's role then). */
  quota?: "user" | "admin";
  /** The uid and gid the job runs as (absent in records of older versions). */
  uid?: number;
  gid?: number;
  state: JobState;
  /** Set when state is `exited`. */
  exitCode?: number;
  /** Set when state is `signaled` or `stopped`. */
  signal?: number;
  oomKilled: boolean;
  /** Why the job failed to start (state `failed_to_start`). */
  error?: string;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  /** The limits in effect. */
  limits: Limits;
  usage: Usage;
  stdoutBytes: number;
  stderrBytes: number;
  /** Per-stream cap on output kept on disk, if the server sets one. */
  outputCapBytes?: number;
  /** Bytes the cap dropped from the start of each stream (reads begin after them). */
  stdoutDroppedBytes: number;
  stderrDroppedBytes: number;
}

/** A piece of output: `data` starts at byte `offset` of `stream`. */
export interface OutputChunk {
  stream: StreamName;
  offset: number;
  /** Where `data` starts in the combined view (both streams, in the order read). */
  position: number;
  /** When the job's launcher read `data[0]`: ns since the epoch. */
  time: bigint;
  data: Uint8Array;
  /**
   * Bytes of the view skipped just before this chunk because the output cap
   * dropped them (up to the next line's start), if any.
   */
  dropped?: number;
}

/** What {@link Job.output} reads. */
export interface OutputOptions {
  /** Default both, in the order the job wrote them. */
  streams?: StreamName[];
  /** Start offset: within the stream when one is chosen, within the combined output otherwise. */
  from?: number;
  /** Only output read at or after this time (ns since the epoch). */
  since?: bigint;
  /** Only output read at or before this time; the reader ends there. */
  until?: bigint;
  /** Only the last `tail` lines (of what `since` and `from` leave), then what follows. */
  tail?: number;
  /** Chunks end where the launcher's pieces do, so each byte's time is its chunk's. */
  exactTimes?: boolean;
  /** Keep following new output until the job ends (default true). */
  follow?: boolean;
}
