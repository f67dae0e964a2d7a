/*
 * The job's output, owned by the launcher (as conmon owns a container's).
 *
 * The command's stdout and stderr are two pipes whose read ends only the
 * reporter holds. It moves what it reads into one file per stream with
 * splice(2) (no copy through user space), and appends to an index one
 * record per piece, in the order it read them:
 *
 *   offset  size  field
 *        0     8  time    CLOCK_REALTIME of the read, ns (never decreases)
 *        8     8  out_at  stdout bytes before this piece
 *       16     8  err_at  stderr bytes before this piece
 *       24     4  length  bytes of the piece
 *       28     1  stream  1 stdout, 2 stderr
 *       29     3  zero
 *
 * after a 32-byte header (INDEX_MAGIC, then the record size as u32). All
 * little-endian. The combined view's offset of a piece is out_at + err_at,
 * so the combined view is the same for every reader, live or after the
 * end, before and after a server restart; each stream's offsets are the
 * offsets of its file.
 *
 * A read of the stream that was read last, less than MERGE_NS after its
 * record began, grows that record (rewritten in place) instead of adding
 * one; a read of the other stream that soon waits until MERGE_NS have
 * passed (the job's writes to it wait only if its pipe fills meanwhile).
 * So the index holds at most one record per MERGE_NS, whatever the job
 * writes, and writes to the two streams further apart than that are
 * ordered as written. The data is written before its record: a reader
 * never sees a record for bytes that are not there.
 *
 * When the disk is full the pipes are still drained (the job must not hang
 * on a full pipe) and what could not be written is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jw_init.h"

#define RECORD 32
#define MERGE_NS 1000000ULL
/* A record never grows past this (its length field is 32 bits). */
#define MAX_RECORD (64U << 20)
/* Each pipe holds this much before the job's writes wait (the most an
 * unprivileged pipe may have by default is 1 MiB, /proc/sys/fs/pipe-max-size). */
#define PIPE_BYTES (1 << 20)

static const char INDEX_MAGIC[8] = {'J', 'W', 'L', 'O', 'G', 'I', 'X', '1'};

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int open_file(const char *path, int flags) {
  return open(path, flags | O_CREAT | O_CLOEXEC, 0640);
}

int output_open(struct output *o, const char *out_path, const char *err_path, const char *index_path) {
  memset(o, 0, sizeof(*o));
  const char *paths[2] = {out_path, err_path};
  for (int s = 0; s < 2; s++) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return -1;
    o->stream[s].pipe = fds[0];
    o->stream[s].job_end = fds[1];
    /* Bigger pipes mean fewer, larger reads; the default (64 KiB) works too. */
    if (fcntl(fds[0], F_SETPIPE_SZ, PIPE_BYTES) < 0) { /* keep the default */ }
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) return -1;
    o->stream[s].file = open_file(paths[s], O_WRONLY);
    if (o->stream[s].file < 0) return -1;
    off_t end = lseek(o->stream[s].file, 0, SEEK_END);
    if (end < 0) return -1;
    o->stream[s].at = (uint64_t)end;
    o->stream[s].open = 1;
  }
  o->index = open_file(index_path, O_WRONLY);
  if (o->index < 0) return -1;
  off_t size = lseek(o->index, 0, SEEK_END);
  if (size < 0) return -1;
  if (size == 0) {
    unsigned char header[RECORD] = {0};
    memcpy(header, INDEX_MAGIC, sizeof(INDEX_MAGIC));
    put32(header + 8, RECORD);
    if (pwrite(o->index, header, RECORD, 0) != RECORD) return -1;
    size = RECORD;
  }
  /* A torn record at the end (a crash mid-write) is overwritten. */
  o->index_size = (uint64_t)size - (uint64_t)(size % RECORD);
  return 0;
}

void output_close_job_ends(struct output *o) {
  for (int s = 0; s < 2; s++) {
    if (o->stream[s].job_end >= 0) close(o->stream[s].job_end);
    o->stream[s].job_end = -1;
  }
}

void output_close_reporter_ends(struct output *o) {
  for (int s = 0; s < 2; s++) {
    close(o->stream[s].pipe);
    close(o->stream[s].file);
  }
  close(o->index);
}

static void write_record(struct output *o) {
  unsigned char r[RECORD] = {0};
  put64(r, o->last.time);
  put64(r + 8, o->last.out_at);
  put64(r + 16, o->last.err_at);
  put32(r + 24, o->last.length);
  r[28] = (unsigned char)(o->last.stream + 1);
  /* Best effort: a record the disk has no room for leaves a gap the
   * readers skip (the positions of the next records stay right). */
  if (pwrite(o->index, r, RECORD, (off_t)o->last.slot) != RECORD) { /* gap */ }
}

/* Records `n` bytes of stream `s`, just written at its old end. */
static void record(struct output *o, int s, uint32_t n, uint64_t mono) {
  struct piece *last = &o->last;
  if (o->records > 0 && last->stream == s && mono - o->last_mono < MERGE_NS && last->length + n <= MAX_RECORD) {
    last->length += n;
    o->stream[s].at += n;
    /* Only the length changes: one aligned 4-byte write. */
    unsigned char length[4];
    put32(length, last->length);
    if (pwrite(o->index, length, 4, (off_t)(last->slot + 24)) != 4) { /* the record keeps its old length */ }
    return;
  } else {
    uint64_t time = now_ns(CLOCK_REALTIME);
    if (o->records > 0 && time < last->time) time = last->time;
    last->time = time;
    last->out_at = o->stream[0].at;
    last->err_at = o->stream[1].at;
    last->length = n;
    last->stream = s;
    last->slot = o->index_size;
    o->index_size += RECORD;
    o->records++;
    o->last_mono = mono;
  }
  o->stream[s].at += n;
  write_record(o);
}

/* Drains what the pipe holds when it cannot be written (disk full). */
static ssize_t discard(int pipe) {
  static char sink[65536];
  ssize_t n = read(pipe, sink, sizeof(sink));
  return n;
}

volatile sig_atomic_t output_cut = 0;

/* Copies what the pipe holds into the file; bytes moved, 0 at EOF, -1 when
 * there is nothing (EAGAIN), -2 when what was read was dropped. */
static ssize_t move(struct output_stream *st) {
  if (output_cut) {
    /* The server cut the output (the owner's disk quota): the job keeps
     * writing, as to a full disk, and the bytes are counted, not kept. */
    ssize_t dropped = discard(st->pipe);
    if (dropped == 0) return 0;
    if (dropped < 0) return errno == EAGAIN || errno == EINTR ? -1 : 0;
    st->cut += (uint64_t)dropped;
    return -2;
  }
  loff_t at = (loff_t)st->at;
  ssize_t n = splice(st->pipe, NULL, st->file, &at, PIPE_BYTES, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n >= 0 || errno == EAGAIN || errno == EINTR) return n;
  if (errno == EINVAL) {
    /* A file system without splice: read and write. */
    static char buf[65536];
    n = read(st->pipe, buf, sizeof(buf));
    if (n <= 0) return n;
    ssize_t done = 0;
    while (done < n) {
      ssize_t w = pwrite(st->file, buf + done, (size_t)(n - done), (off_t)(st->at + (uint64_t)done));
      if (w <= 0) break;
      done += w;
    }
    if (done < n) st->lost += (uint64_t)(n - done);
    return done > 0 ? done : -2;
  }
  /* ENOSPC, EDQUOT, EIO...: the bytes stay in the pipe; drop them. */
  ssize_t dropped = discard(st->pipe);
  if (dropped == 0) return 0;
  if (dropped > 0) st->lost += (uint64_t)dropped;
  return -2;
}

int output_pump(struct output *o, int s, int draining) {
  struct output_stream *st = &o->stream[s];
  uint64_t mono = now_ns(CLOCK_MONOTONIC);
  /* The other stream's record is fresh: give it its MERGE_NS first (once:
   * a stream that waited goes next, so a busy other stream cannot starve it). */
  if (!draining && !st->due && o->records > 0 && o->last.stream != s && mono - o->last_mono < MERGE_NS) {
    st->deferred_until = o->last_mono + MERGE_NS;
    return 1;
  }
  st->deferred_until = 0;
  st->due = 0;
  for (int rounds = 0; rounds < 16; rounds++) {
    ssize_t n = move(st);
    if (n == 0) {
      st->open = 0;
      return 0;
    }
    if (n == -1) return 1;
    if (n == -2) continue;
    record(o, s, (uint32_t)n, mono);
    if (!draining) return 1;
  }
  return 1;
}

int output_poll_timeout_ns(const struct output *o, uint64_t *timeout) {
  uint64_t mono = now_ns(CLOCK_MONOTONIC);
  int any = 0;
  for (int s = 0; s < 2; s++) {
    uint64_t until = o->stream[s].deferred_until;
    if (!o->stream[s].open || !until) continue;
    uint64_t left = until > mono ? until - mono : 0;
    if (!any || left < *timeout) *timeout = left;
    any = 1;
  }
  return any;
}

int output_wants(const struct output *o, int s) {
  return o->stream[s].open && !o->stream[s].deferred_until;
}

void output_expire_deferrals(struct output *o) {
  uint64_t mono = now_ns(CLOCK_MONOTONIC);
  for (int s = 0; s < 2; s++) {
    if (o->stream[s].deferred_until && mono >= o->stream[s].deferred_until) {
      o->stream[s].deferred_until = 0;
      o->stream[s].due = 1;
    }
  }
}
