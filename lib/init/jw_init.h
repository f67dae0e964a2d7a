/* What the parts of jw-init share: the launch configuration and the way the
 * job's side reports a failure before the command runs. */
#ifndef JW_INIT_H
#define JW_INIT_H
#include <linux/filter.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_LIST 64
#define MAX_ENV 1024

struct config {
  const char *id;
  uid_t uid;
  gid_t gid;
  const char *stdout_path;
  const char *stderr_path;
  /* The index of the job's output (see output.c). */
  const char *index_path;
  const char *status_path;
  /* Working directory, inside the job's view. */
  const char *dir;
  /* Empty host directory the job's new root is mounted on (in its own mount
   * namespace, so one directory serves every job). */
  const char *root_mount;
  /* Host directory bound read-write at /work. */
  const char *work;
  /* Host paths bound read-only at the same place in the job's view. */
  const char *ro[MAX_LIST];
  int nro;
  /* Size of each private tmpfs (/tmp, /var/tmp, /dev/shm), bytes. */
  unsigned long long tmp_bytes;
  /* Changes to the default seccomp deny list (system call names). */
  const char *allow[MAX_LIST];
  int nallow;
  const char *deny[MAX_LIST];
  int ndeny;
  /* A compiled filter (from --export-seccomp) to load instead. */
  const char *seccomp_program;
  const char *cgroups[MAX_LIST];
  int ncgroups;
  char *env[MAX_ENV + 1];
  int nenv;
  char **argv;
  /* jw-init's own arguments, wiped in the init once the command runs. */
  int raw_argc;
  char **raw_argv;
};

/* Reports "failed <what>: <strerror(errno)>" to the launcher and exits: the
 * job could not be set up (a failed_to_start job). */
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Reports "invalid <what>" and exits: the request cannot work (nothing is
 * recorded for it). */
void fail_invalid(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Builds the job's root (sandbox.c) and makes it the root of the calling
 * process's mount namespace; the host's root is detached. */
void enter_sandbox(const struct config *c);
/* The seccomp filter (seccomp_filter.c): compiled to a file once per policy,
 * read before the job's root replaces the host's, and loaded (no_new_privs
 * needed) from what was read, or compiled on the spot when nothing was. */
void export_seccomp(const struct config *c, const char *path);
void read_seccomp(const char *path, struct sock_fprog *prog);
void load_seccomp(const struct config *c, const struct sock_fprog *prepared);

/* The job's output, read by the reporter from the command's pipes (output.c). */
/* Set by SIGUSR2 in the reporter: from then on output is read and dropped. */
extern volatile sig_atomic_t output_cut;

struct output_stream {
  /* The reporter's end of the pipe, and the job's end (until it is handed on). */
  int pipe;
  int job_end;
  /* The stream's file, and how many bytes it holds. */
  int file;
  uint64_t at;
  /* Bytes that could not be written (disk full). */
  uint64_t lost;
  /* Bytes dropped after the server cut the job's output (SIGUSR2: its
   * owner's disk quota was reached). */
  uint64_t cut;
  int open;
  /* Not read before this CLOCK_MONOTONIC time (the other stream's turn);
   * `due` once that wait is over: read next, whatever came meanwhile. */
  uint64_t deferred_until;
  int due;
};

struct piece {
  uint64_t time;
  uint64_t out_at;
  uint64_t err_at;
  uint32_t length;
  int stream;
  /* Where in the index its record is. */
  uint64_t slot;
};

struct output {
  struct output_stream stream[2];
  int index;
  uint64_t index_size;
  uint64_t records;
  /* The last record, which may still grow, and when it began (monotonic). */
  struct piece last;
  uint64_t last_mono;
};

/* Opens the stream files and the index, and makes the two pipes; -1 with
 * errno on failure. */
int output_open(struct output *o, const char *out_path, const char *err_path, const char *index_path);
/* The job's side drops the reporter's files; the reporter drops the job's ends. */
void output_close_job_ends(struct output *o);
void output_close_reporter_ends(struct output *o);
/* Reads stream `s` once (all it holds while `draining`); 0 once it is at
 * EOF, else 1. */
int output_pump(struct output *o, int s, int draining);
/* Whether stream `s` is to be polled now. */
int output_wants(const struct output *o, int s);
/* The time until a deferred stream is due, if one is (returns 1). */
int output_poll_timeout_ns(const struct output *o, uint64_t *timeout);
void output_expire_deferrals(struct output *o);

#endif
