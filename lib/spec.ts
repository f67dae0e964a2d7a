import { JobError } from "./errors.ts";
import type { JobSpec } from "./job_info.ts";
import { LIMIT_KEYS, type Limits } from "./limits.ts";

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

const MAX_ARGS = 4096;
const MAX_ENV = 1000;
const MAX_TEXT = 128 * 1024;
const ENV_NAME = /^[^=\0]+$/;

function text(value: unknown, what: string, max = MAX_TEXT): string {
  if (typeof value !== "string") throw bad(`${what} must be a string`);
  if (value.includes("\0")) throw bad(`${what} contains a NUL byte`);
  if (value.length > max) throw bad(`${what} is longer than ${max} characters`);
  return value;
}

function bad(message: string): JobError {
  return new JobError("invalid_argument", message);
}

/**
 * Checks a job request before anything is created: a non-empty command,
 * strings without NUL bytes, environment names without `=`, an absolute
 * working directory, a short printable name. Throws `invalid_argument`.
 */
export function validateSpec(spec: JobSpec): CleanSpec {
  const owner = text(spec.owner, "owner", 256);
  if (!owner) throw bad("owner is empty");
  const command = text(spec.command, "command", 4096);
  if (!command.trim()) throw bad("command is empty");
  const args = spec.args ?? [];
  if (!Array.isArray(args) || args.length > MAX_ARGS) {
    throw bad(`at most ${MAX_ARGS} arguments`);
  }
  args.forEach((arg, i) => text(arg, `argument ${i + 1}`));
  const env = Object.entries(spec.env ?? {});
  if (env.length > MAX_ENV) {
    throw bad(`at most ${MAX_ENV} environment variables`);
  }
  for (const [name, value] of env) {
    if (!ENV_NAME.test(name)) {
      throw bad(`bad environment variable name "${name.slice(0, 40)}"`);
    }
    text(value, `environment variable ${name}`);
  }
  const clean: CleanSpec = {
    owner,
    command,
    args: [...args],
    env: Object.fromEntries(env),
  };
  if (spec.dir) {
    clean.dir = text(spec.dir, "dir", 4096);
    if (!clean.dir.startsWith("/")) {
      throw bad(`dir must be an absolute path, got "${clean.dir}"`);
    }
  }
  if (spec.name) {
    clean.name = text(spec.name, "name", 200);
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(clean.name)) {
      throw bad("name contains control characters");
    }
  }
  if (
    spec.limits && LIMIT_KEYS.some((key) => spec.limits?.[key] !== undefined)
  ) {
    clean.limits = { ...spec.limits };
  }
  return clean;
}
