/**
 * One page of a List answer: the matching jobs after the page token,
 * oldest first, bounded in count and in size, so that no answer comes near
 * gRPC's 4 MiB message limit however many or however large the jobs are.
 *
 * @module
 */
import { JobError } from "../lib/errors.ts";
import type { JobInfo, JobState } from "../lib/job_info.ts";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** What one page's jobs may take on the wire, about (a job's own size is bounded by the request limits). */
export const PAGE_BYTES = 2 * 1024 * 1024;

export interface PageRequest {
  pageSize: number;
  pageToken: string;
  states: readonly JobState[];
  name: string;
}

/**
 * The page of `jobs` that `request` asks for, and the token of the next
 * page ("" when there is none). Throws `invalid_argument` for a token that
 * is not one this server made, or a page size over {@link MAX_PAGE_SIZE}.
 *
 * @example
 * ```ts
 * const { page, next } = listPage(runtime.list().map((j) => j.info()), request);
 * ```
 */
export function listPage(
  jobs: readonly JobInfo[],
  request: PageRequest,
): { page: JobInfo[]; next: string } {
  if (request.pageSize > MAX_PAGE_SIZE) {
    throw new JobError(
      "invalid_argument",
      `page_size must be at most ${MAX_PAGE_SIZE}, got ${request.pageSize}`,
    );
  }
  const size = request.pageSize || DEFAULT_PAGE_SIZE;
  const after = request.pageToken ? parseToken(request.pageToken) : undefined;
  const matching = jobs
    .filter((job) =>
      (!request.states.length || request.states.includes(job.state)) &&
      (!request.name || job.name === request.name) &&
      (!after || compare(job, after) > 0)
    )
    .sort(compare);
  const page: JobInfo[] = [];
  let bytes = 0;
  for (const job of matching) {
    const cost = approximateBytes(job);
    if (page.length === size || (page.length && bytes + cost > PAGE_BYTES)) {
      const last = page[page.length - 1];
      return { page, next: `${last.createdAt.getTime()}.${last.id}` };
    }
    page.push(job);
    bytes += cost;
  }
  return { page, next: "" };
}

interface Position {
  createdAt: Date;
  id: string;
}

function compare(a: Position, b: Position): number {
  return a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function parseToken(token: string): Position {
  const match = /^(\d{1,15})\.([0-9a-f]{12})$/.exec(token);
  if (!match) {
    throw new JobError(
      "invalid_argument",
      "page_token is not one this server gave out",
    );
  }
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

/** A job's size on the wire, about: its variable fields plus room for the rest. */
function approximateBytes(job: JobInfo): number {
  let bytes = 512 + utf8Length(job.command) + utf8Length(job.name) +
    utf8Length(job.dir) + utf8Length(job.owner) + utf8Length(job.error ?? "");
  for (const arg of job.args) bytes += utf8Length(arg) + 4;
  return bytes;
}

function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // 2 bytes from U+0080, 3 from U+0800; a surrogate pair's 4 bytes are
    // 2 units counted 2 each.
    if (unit >= 0x80) {
      bytes += unit >= 0x800 && (unit < 0xd800 || unit > 0xdfff) ? 2 : 1;
    }
  }
  return bytes;
}
