import { JobError } from "./errors.ts";
import type { JobSpec } from "./job_info.ts";
import { LIMIT_KEYS, type Limits } from "./limits.ts";
import {
  DEFAULT_REQUEST_LIMITS,
  type RequestLimits,
} from "./request_limits.ts";

/** A {@link JobSpec} that passed {@link validateSpec}: every field present and sane. */
export interface CleanSpec {
  owner: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  dir?: string;
  name?: string;
  /** Present only when the caller asked for at least one limit. */
  limits?: Limits;
}

/** What a job's name may be: a letter or digit, then those and `_.-`. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[^=\0]+$/;
/** Linux's bound on one argument or environment string, NUL included (MAX_ARG_STRLEN). */
const MAX_ARG_STRLEN = 128 * 1024;
const encoder = new TextEncoder();

function bytes(value: string): number {
  return encoder.encode(value).length;
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw bad(`${what} must be a string`);
  if (value.includes("\0")) throw bad(`${what} contains a NUL byte`);
  return value;
}

function bad(message: string): JobError {
  return new JobError("invalid_argument", message);
}

function over(
  what: string,
  size: number,
  unit: string,
  key: keyof RequestLimits,
  limits: RequestLimits,
): JobError {
  return bad(
    `${what} ${size} ${unit}, over the limit of ${
      limits[key]
    } (policy requests.${key})`,
  );
}

/**
 * Checks a job request before anything is created: a non-empty command,
 * strings without NUL bytes, environment names without `=`, an absolute
 * working directory, a short printable name, and every size within
 * `limits`. Throws `invalid_argument` naming the limit.
 */
export function validateSpec(
  spec: JobSpec,
  limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
): CleanSpec {
  const owner = text(spec.owner, "owner");
  if (!owner) throw bad("owner is empty");
  if (owner.length > 256) throw bad("owner is longer than 256 characters");
  const command = text(spec.command, "command");
  if (!command.trim()) throw bad("command is empty");
  const args = spec.args ?? [];
  if (!Array.isArray(args)) throw bad("args must be a list");
  if (args.length > limits.args) {
    throw over("the command has", args.length, "arguments", "args", limits);
  }
  let commandBytes = 0;
  [command, ...args].forEach((arg, i) => {
    const size = bytes(text(arg, i ? `argument ${i}` : "command")) + 1;
    if (size > MAX_ARG_STRLEN) {
      throw bad(
        `${
          i ? `argument ${i}` : "the command"
        } is ${size} bytes; Linux takes at most ${MAX_ARG_STRLEN} for one`,
      );
    }
    commandBytes += size;
  });
  if (commandBytes > limits.commandBytes) {
    throw over(
      "the command and its arguments are",
      commandBytes,
      "bytes",
      "commandBytes",
      limits,
    );
  }
  const env = Object.entries(spec.env ?? {});
  if (env.length > limits.envEntries) {
    throw over(
      "the environment has",
      env.length,
      "variables",
      "envEntries",
      limits,
    );
  }
  let envBytes = 0;
  for (const [name, value] of env) {
    if (!ENV_NAME.test(name)) {
      throw bad(
        `bad environment variable name "${
          name.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")
        }"`,
      );
    }
    const size = bytes(name) +
      bytes(text(value, `environment variable ${name.slice(0, 40)}`)) + 2;
    if (size > MAX_ARG_STRLEN) {
      throw bad(
        `environment variable ${
          name.slice(0, 40)
        } is ${size} bytes; Linux takes at most ${MAX_ARG_STRLEN} for one`,
      );
    }
    envBytes += size;
  }
  if (envBytes > limits.envBytes) {
    throw over("the environment is", envBytes, "bytes", "envBytes", limits);
  }
  const clean: CleanSpec = {
    owner,
    command,
    args: [...args],
    env: Object.fromEntries(env),
  };
  if (spec.dir) {
    clean.dir = text(spec.dir, "dir");
    if (bytes(clean.dir) > limits.dirBytes) {
      throw over("dir is", bytes(clean.dir), "bytes", "dirBytes", limits);
    }
    if (!clean.dir.startsWith("/")) {
      throw bad(`dir must be an absolute path, got "${clean.dir}"`);
    }
  }
  if (spec.name) {
    clean.name = text(spec.name, "name");
    if (clean.name.length > limits.nameLength) {
      throw over(
        "name is",
        clean.name.length,
        "characters",
        "nameLength",
        limits,
      );
    }
    // A name is a reference to the job (jw logs NAME), typed in shells
    // and printed in tables: Docker's charset keeps it one plain word.
    if (!JOB_NAME.test(clean.name)) {
      throw bad(
        `name "${
          clean.name.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")
        }" may hold only letters, digits and "_.-", and must begin with a letter or digit`,
      );
    }
  }
  if (
    spec.limits && LIMIT_KEYS.some((key) => spec.limits?.[key] !== undefined)
  ) {
    clean.limits = { ...spec.limits };
  }
  return clean;
}
