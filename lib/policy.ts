import { JobError } from "./errors.ts";
import {
  formatSize,
  LIMIT_KEYS,
  type LimitKey,
  type Limits,
  parseSize,
  validateLimits,
} from "./limits.ts";
import { defaultQuotas, parseQuotas, type Quotas } from "./quotas.ts";
import {
  DEFAULT_REQUEST_LIMITS,
  parseRequestLimits,
  type RequestLimits,
} from "./request_limits.ts";

/**
 * Limits policy: what standard users get, and how far admins may go.
 * An absent ceiling means "no ceiling".
 */
export interface Policy {
  defaults: Limits;
  ceilings: Limits;
  /** How large a job request may be. */
  requests: RequestLimits;
  /** What one user's running jobs may hold at once, by role. */
  quotas: Quotas;
  /**
   * Changes to every job's seccomp filter (lib/init/seccomp_filter.c):
   * system calls of the default deny list to allow, and more to deny.
   */
  seccomp?: SeccompChanges;
}

/** System call names to allow beyond, or deny besides, the default filter. */
export interface SeccompChanges {
  allow?: string[];
  deny?: string[];
}

const POLICY_KEYS = ["defaults", "ceilings", "requests", "quotas", "seccomp"];

const SYSCALL_NAME = /^[a-z_][a-z0-9_]{0,63}$/;

function parseSeccomp(raw: unknown): SeccompChanges | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("seccomp must be an object");
  }
  const changes: SeccompChanges = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== "allow" && key !== "deny") {
      throw new Error(`seccomp.${key} is not known (know allow, deny)`);
    }
    if (
      !Array.isArray(value) || value.length > 64 ||
      !value.every((name) =>
        typeof name === "string" && SYSCALL_NAME.test(name)
      )
    ) {
      throw new Error(
        `seccomp.${key} must be a list of at most 64 system call names`,
      );
    }
    changes[key] = value;
  }
  return changes;
}

/** The policy used when no file is given. */
export function builtinPolicy(): Policy {
  return {
    defaults: { cpu: 1, memoryBytes: 512 * 1024 ** 2, pids: 512 },
    ceilings: {
      cpu: navigator.hardwareConcurrency,
      memoryBytes: Deno.systemMemoryInfo().total,
      pids: 32768,
    },
    requests: { ...DEFAULT_REQUEST_LIMITS },
    quotas: defaultQuotas(),
  };
}

const BYTE_KEYS: ReadonlySet<LimitKey> = new Set([
  "memoryBytes",
  "ioReadBps",
  "ioWriteBps",
]);

function parseLimits(raw: unknown, where: string): Limits {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${where} must be an object`);
  }
  const limits: Limits = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(key)) {
      throw new Error(
        `${where}.${key} is not a limit (know ${LIMIT_KEYS.join(", ")})`,
      );
    }
    const k = key as LimitKey;
    limits[k] = typeof value === "string" && BYTE_KEYS.has(k)
      ? parseSize(value)
      : value as number;
  }
  return validateLimits(limits);
}

/**
 * Reads a policy file: JSON `{ "defaults": {...}, "ceilings": {...} }` with
 * limit names as keys (`cpu`, `memoryBytes`, `ioReadBps`, `ioWriteBps`,
 * `pids`); byte values may be sizes like `"512M"`. Optional sections:
 * `requests` (see RequestLimits), `quotas` (`{"user": {"runningJobs": 64,
 * "cpu": 8, "memoryBytes": "16G"}, "admin": {...}}`) and `seccomp`
 * (`{"allow": [...], "deny": [...]}`); any other key is refused. Throws
 * `failed_precondition` naming the file and the problem.
 *
 * @example
 * ```ts
 * const policy = await loadPolicy("/etc/jobworker/policy.json");
 * ```
 */
export async function loadPolicy(path?: string): Promise<Policy> {
  if (!path) return builtinPolicy();
  try {
    const raw = JSON.parse(await Deno.readTextFile(path));
    if (typeof raw !== "object" || raw === null) {
      throw new Error("not an object");
    }
    for (const key of Object.keys(raw)) {
      if (!POLICY_KEYS.includes(key)) {
        throw new Error(
          `"${key}" is not a policy section (know ${POLICY_KEYS.join(", ")})`,
        );
      }
    }
    const policy: Policy = {
      defaults: parseLimits(raw.defaults, "defaults"),
      ceilings: parseLimits(raw.ceilings, "ceilings"),
      requests: parseRequestLimits(raw.requests),
      quotas: parseQuotas(raw.quotas),
    };
    const seccomp = parseSeccomp(raw.seccomp);
    if (seccomp) policy.seccomp = seccomp;
    checkWithin(policy.defaults, policy.ceilings, "default");
    return policy;
  } catch (err) {
    const why = err instanceof JobError || err instanceof Error
      ? err.message
      : String(err);
    // Users see what is wrong; the path is for the server's log.
    throw new JobError("failed_precondition", `the server's policy: ${why}`, {
      cause: new Error(`policy ${path}: ${why}`),
    });
  }
}

function show(key: LimitKey, value: number): string {
  return BYTE_KEYS.has(key) ? formatSize(value) : String(value);
}

function checkWithin(limits: Limits, ceilings: Limits, what: string): void {
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    const ceiling = ceilings[key];
    if (value !== undefined && ceiling !== undefined && value > ceiling) {
      throw new JobError(
        "invalid_argument",
        `${what} ${key} ${show(key, value)} exceeds the policy ceiling ${
          show(key, ceiling)
        }`,
      );
    }
  }
}

/**
 * The limits a job runs with: the policy defaults, overridden field by field
 * by `requested` when custom limits are allowed (admins), each checked
 * against the ceilings.
 */
export function resolveLimits(
  policy: Policy,
  requested: Limits | undefined,
): Limits {
  const limits = validateLimits({
    ...policy.defaults,
    ...stripUndefined(requested ?? {}),
  });
  checkWithin(limits, policy.ceilings, "requested");
  return limits;
}

function stripUndefined(limits: Limits): Limits {
  return Object.fromEntries(
    Object.entries(limits).filter(([, v]) => v !== undefined),
  ) as Limits;
}
