import { parseSize } from "./limits.ts";

/**
 * How large one job request may be. Checked before anything is created or
 * stored, so a stored record is always small; each may be set in the
 * policy file's `requests` section.
 */
export interface RequestLimits {
  /** Bytes of the command and its arguments together (Linux allows ~2 MiB). */
  commandBytes: number;
  /** Number of arguments. */
  args: number;
  /** Number of environment variables. */
  envEntries: number;
  /** Bytes of all environment variables together (names and values). */
  envBytes: number;
  /** Characters of the job's name. */
  nameLength: number;
  /** Bytes of the working directory's path. */
  dirBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  commandBytes: 256 * 1024,
  args: 4096,
  envEntries: 256,
  envBytes: 64 * 1024,
  nameLength: 128,
  dirBytes: 1024,
};

/** Bytes the limits count as "bytes" (and that may be written as sizes). */
const BYTE_KEYS = new Set(["commandBytes", "envBytes", "dirBytes"]);

/**
 * The policy file's `requests` section over the defaults; throws a plain
 * Error naming the bad key (loadPolicy adds the file).
 */
export function parseRequestLimits(raw: unknown): RequestLimits {
  const limits = { ...DEFAULT_REQUEST_LIMITS };
  if (raw === undefined) return limits;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("requests must be an object");
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in limits)) {
      throw new Error(
        `requests.${key} is not a request limit (know ${
          Object.keys(limits).join(", ")
        })`,
      );
    }
    const n = typeof value === "string" && BYTE_KEYS.has(key)
      ? parseSize(value)
      : value;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
      throw new Error(`requests.${key} must be a positive integer`);
    }
    limits[key as keyof RequestLimits] = n;
  }
  return limits;
}
