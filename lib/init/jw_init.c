/*
 * jw-init: the launcher every jobworker job goes through.
 *
 * It does in one process what `sh` (cgroup join) + `unshare --fork` +
 * `setpriv` + `tini` would do, but reports exactly what happened, which those
 * tools cannot:
 *   - the job's exit code or terminating signal (util-linux 2.38 `unshare`
 *     turns a SIGKILLed child, e.g. an OOM kill, into "exit 1");
 *   - a command that could not be executed (missing binary, no permission)
 *     as a start failure with the OS reason, instead of a job that
 *     "exited 127"; a working directory that does not exist in the job's
 *     view as a bad request.
 *
 * Three processes:
 *   reporter  (this process) stays outside the job's cgroup and namespaces,
 *             so stopping the job never kills it. It holds the read ends of
 *             the command's stdout and stderr pipes and writes what it reads
 *             to the output files and their index (output.c), and prints one
 *             line per event on stdout:
 *               started <pid> <own pid>  the command runs (host PIDs of the
 *                                        job's init and of the reporter)
 *               failed <reason>          the command never ran
 *               invalid <reason>         the request cannot work (bad dir,
 *                                        unknown system call in the policy)
 *               exited <code>            the command exited
 *               signaled <signal>        the command was killed by a signal
 *             (either followed by " lost <bytes>" when the full disk had
 *             no room for that much of the job's output, and " cut <bytes>"
 *             for what it dropped after the server cut the output with
 *             SIGUSR2, when the job's owner reached their disk quota)
 *             The last line is also written atomically to --status FILE, so
 *             a restarted server can read it, once the pipes are drained:
 *             when a job's end is reported, its output is complete.
 *   init      PID 1 of the job's new PID namespace. It joins the job's cgroup
 *             before anything else, enters new mount, network (only lo, up),
 *             UTS (hostname = job id) and IPC namespaces, builds the job's
 *             own root and pivots into it (sandbox.c), points stdout and
 *             stderr at the reporter's pipes, drops every capability and supplementary group,
 *             becomes the job's user with no_new_privs, loads the seccomp
 *             filter (seccomp_filter.c) and forks the command. Then, like
 *             tini, it forwards SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
 *             SIGUSR2 and SIGWINCH that processes of the job send it to
 *             the command (the server signals every process itself),
 *             reaps every orphan, and when the command ends tells the reporter how and exits, which
 *             ends every process left in the namespace.
 *   command   executed with exactly the environment given, in the working
 *             directory, with core dumps off and a bounded RLIMIT_NOFILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jw_init.h"

/* Open files a job may have: soft, and the hard limit it may raise it to. */
#define NOFILE_SOFT 1024
#define NOFILE_HARD 524288

static void usage(void) {
  fprintf(stderr,
          "usage: jw-init --id ID --uid UID --gid GID --stdout FILE --stderr FILE --index FILE\n"
          "               --root-mount DIR --work DIR [--ro PATH]... [--tmp-bytes N]\n"
          "               [--status FILE] [--dir DIR] [--cgroup PROCS_FILE]...\n"
          "               [--allow SYSCALL]... [--deny SYSCALL]... [--seccomp PROGRAM]\n"
          "               [--env K=V]... -- COMMAND [ARG]...\n"
          "       jw-init --export-seccomp PROGRAM [--allow SYSCALL]... [--deny SYSCALL]...\n");
  exit(2);
}

static void add(const char **list, int *n, const char *v) {
  if (*n >= MAX_LIST) {
    fprintf(stderr, "jw-init: more than %d of one option\n", MAX_LIST);
    exit(2);
  }
  list[(*n)++] = v;
}

/* The init's line to the reporter (a pipe; lines below PIPE_BUF are atomic). */
static int report_fd = -1;

static void parse_args(int argc, char **argv, struct config *c) {
  memset(c, 0, sizeof(*c));
  c->uid = 65534;
  c->gid = 65534;
  c->dir = "/work";
  c->tmp_bytes = 64ULL << 20;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "--id") == 0) c->id = v;
    else if (strcmp(a, "--uid") == 0) c->uid = (uid_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--gid") == 0) c->gid = (gid_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--stdout") == 0) c->stdout_path = v;
    else if (strcmp(a, "--stderr") == 0) c->stderr_path = v;
    else if (strcmp(a, "--index") == 0) c->index_path = v;
    else if (strcmp(a, "--status") == 0) c->status_path = v;
    else if (strcmp(a, "--dir") == 0) c->dir = v;
    else if (strcmp(a, "--root-mount") == 0) c->root_mount = v;
    else if (strcmp(a, "--work") == 0) c->work = v;
    else if (strcmp(a, "--tmp-bytes") == 0) c->tmp_bytes = strtoull(v, NULL, 10);
    else if (strcmp(a, "--ro") == 0) add(c->ro, &c->nro, v);
    else if (strcmp(a, "--allow") == 0) add(c->allow, &c->nallow, v);
    else if (strcmp(a, "--deny") == 0) add(c->deny, &c->ndeny, v);
    else if (strcmp(a, "--seccomp") == 0) c->seccomp_program = v;
    else if (strcmp(a, "--export-seccomp") == 0) {
      /* Compile the filter for these --allow/--deny and stop. */
      for (i++; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--allow") == 0) add(c->allow, &c->nallow, argv[i + 1]);
        else if (strcmp(argv[i], "--deny") == 0) add(c->deny, &c->ndeny, argv[i + 1]);
        else usage();
      }
      if (i != argc) usage();
      report_fd = STDERR_FILENO;
      export_seccomp(c, v);
      exit(0);
    }
    else if (strcmp(a, "--cgroup") == 0) add(c->cgroups, &c->ncgroups, v);
    else if (strcmp(a, "--env") == 0 && c->nenv < MAX_ENV) c->env[c->nenv++] = (char *)v;
    else usage();
  }
  if (i >= argc || !c->id || !c->stdout_path || !c->stderr_path || !c->index_path || !c->root_mount || !c->work) usage();
  c->env[c->nenv] = NULL;
  c->argv = &argv[i];
  c->raw_argc = argc;
  c->raw_argv = argv;
}

/* The job can read its init's command line (/proc/1/cmdline), which names
 * host paths; once the command has its own copy, only "jw-init" is left. */
static void hide_arguments(const struct config *c) {
  char *start = c->raw_argv[0];
  char *last = c->raw_argv[c->raw_argc - 1];
  char *end = last + strlen(last) + 1;
  memset(start, 0, (size_t)(end - start));
  snprintf(start, (size_t)(end - start), "jw-init");
}

static void tell(const char *line) {
  if (write(report_fd, line, strlen(line)) < 0) { /* nothing left to tell */ }
}

static void vreport(const char *word, int with_errno, const char *fmt, va_list ap) {
  char msg[600];
  int saved = errno;
  int n = snprintf(msg, sizeof(msg), "%s ", word);
  n += vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
  if ((size_t)n < sizeof(msg) && with_errno) n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));
  if ((size_t)n >= sizeof(msg) - 1) n = sizeof(msg) - 2;
  msg[n] = '\n';
  msg[n + 1] = '\0';
  tell(msg);
}

void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("failed", 1, fmt, ap);
  va_end(ap);
  _exit(127);
}

void fail_invalid(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("invalid", 0, fmt, ap);
  va_end(ap);
  _exit(127);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open %s", path);
  if (write(fd, text, strlen(text)) < 0) fail("write %s", path);
  close(fd);
}

static void bring_lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("get lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("bring lo up");
  close(s);
}

static void redirect(int fd, int target) {
  if (dup2(fd, target) < 0) fail("dup2 %d", target);
  close(fd);
}

/* Nothing but stdio (and the report pipe, in the init) reaches the job. */
static void close_other_descriptors(void) {
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < max && fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void drop_capabilities(void) {
  int last = 40;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = 40;
    fclose(f);
  }
  for (int cap = 0; cap <= last; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail("drop capability %d", cap);
  }
}

/* Lowers a limit to at most soft/hard (never raises what the server has). */
static void set_limit(int resource, rlim_t soft, rlim_t hard, const char *what) {
  struct rlimit lim;
  if (getrlimit(resource, &lim) < 0) fail("get %s limit", what);
  if (lim.rlim_max > hard) lim.rlim_max = hard;
  lim.rlim_cur = soft < lim.rlim_max ? soft : lim.rlim_max;
  if (setrlimit(resource, &lim) < 0) fail("set %s limit", what);
}

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Signals the init passes on to the command; the rest it leaves alone. */
static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

/* The job's output, read by the reporter (output.c). */
static struct output output;

/* Becomes the job's sandboxed, unprivileged init; returns with every signal
 * it handles blocked (in `set`). */
static void enter_job(const struct config *c, sigset_t *set) {
  output_close_reporter_ends(&output);
  /* The cgroup first: every byte and cycle from here on is the job's. */
  for (int i = 0; i < c->ncgroups; i++) write_file(c->cgroups[i], "0");
  struct sock_fprog seccomp = {0, NULL};
  if (c->seccomp_program) read_seccomp(c->seccomp_program, &seccomp);
  if (setsid() < 0) fail("setsid");
  if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0) fail("create namespaces");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make mounts private");
  umask(0);
  enter_sandbox(c);
  umask(022);
  if (sethostname(c->id, strlen(c->id)) < 0) fail("set hostname");
  bring_lo_up();
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) fail("open /dev/null");
  redirect(null, STDIN_FILENO);
  redirect(output.stream[0].job_end, STDOUT_FILENO);
  redirect(output.stream[1].job_end, STDERR_FILENO);
  close_other_descriptors();
  set_limit(RLIMIT_CORE, 0, 0, "core size");
  set_limit(RLIMIT_NOFILE, NOFILE_SOFT, NOFILE_HARD, "open files");
  drop_capabilities();
  if (setgroups(0, NULL) < 0) fail("clear groups");
  if (setresgid(c->gid, c->gid, c->gid) < 0) fail("set gid %u", c->gid);
  if (setresuid(c->uid, c->uid, c->uid) < 0) fail("set uid %u", c->uid);
  /* If the reporter dies, so does the job (it ignores the signals a terminal
   * sends, so that can only be deliberate). Set after the uid change, which
   * clears it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("set parent-death signal");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs");
  /* The command, same uid, must not trace or read the init. */
  if (prctl(PR_SET_DUMPABLE, 0) < 0) fail("set not dumpable");
  if (chdir(c->dir) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      fail_invalid("dir %s does not exist in the job's filesystem", c->dir);
    }
    fail("chdir %s", c->dir);
  }
  load_seccomp(c, &seccomp);
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++) sigaddset(set, FORWARDED[i]);
  if (sigprocmask(SIG_BLOCK, set, NULL) < 0) fail("block signals");
}

/* Forks and executes the command; returns its PID once it runs. */
static pid_t start_command(const struct config *c) {
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    report_fd = exec_pipe[1];
    reset_signals();
    environ = (char **)c->env;
    execvp(c->argv[0], c->argv);
    fail("exec \"%s\"", c->argv[0]);
  }
  close(exec_pipe[1]);
  char why[600];
  ssize_t n;
  do {
    n = read(exec_pipe[0], why, sizeof(why) - 1);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    why[n] = '\0';
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    tell(why);
    _exit(127);
  }
  close(exec_pipe[0]);
  return pid;
}

/* PID 1: forward signals, reap orphans, report the command's end. */
static void __attribute__((noreturn)) run_init(const struct config *c) {
  sigset_t set;
  enter_job(c, &set);
  pid_t command = start_command(c);
  hide_arguments(c);
  tell("started\n");
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      /* From inside the job (a sender it can see): pass it on, as tini
       * does. From outside (si_pid 0: not in this namespace), it is the
       * server signalling every process of the job, the command included:
       * passing it on would deliver it twice. */
      if (info.si_pid != 0) kill(command, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != command) continue;
      char line[64];
      if (WIFEXITED(status)) snprintf(line, sizeof(line), "exited %d\n", WEXITSTATUS(status));
      else snprintf(line, sizeof(line), "signaled %d\n", WTERMSIG(status));
      tell(line);
      _exit(0);
    }
  }
}

/* Reporter side. */
/* Writes `line` and a newline to `fd` at `offset`; 0 on success. */
static int put_line(int fd, const char *line, off_t offset) {
  char buf[700];
  int n = snprintf(buf, sizeof(buf), "%s\n", line);
  if (n < 0 || (size_t)n >= sizeof(buf)) return -1;
  return pwrite(fd, buf, (size_t)n, offset) == n && ftruncate(fd, n) == 0 && fsync(fd) == 0 ? 0 : -1;
}

static void announce(const struct config *c, const char *line) {
  printf("%s\n", line);
  fflush(stdout);
  if (!c->status_path) return;
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", c->status_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd >= 0) {
    int ok = put_line(fd, line, 0) == 0;
    close(fd);
    if (ok && rename(tmp, c->status_path) == 0) return;
    unlink(tmp);
  }
  /* A full disk has no block for a new file, but the status file has the
   * one its first report took: the final report overwrites it in place, so
   * that a job that ended while the disk was full is not taken for lost. */
  fd = open(c->status_path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (put_line(fd, line, 0) < 0) { /* nothing better left to do */ }
  close(fd);
}

static void parent_fail(const struct config *c, const char *what) {
  char line[600];
  snprintf(line, sizeof(line), "failed %s: %s", what, strerror(errno));
  announce(c, line);
  exit(0);
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

/* What the init has told the reporter so far. */
struct reports {
  char buf[1300];
  size_t len;
  /* The first line ("started", or why not) and the last ("exited N" ...). */
  char first[600];
  char last[600];
  int lines;
  int open;
};

/* Reads what the init wrote; fills in complete lines. */
static void read_reports(int fd, struct reports *r) {
  ssize_t n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    r->open = 0;
    return;
  }
  r->len += (size_t)n;
  char *nl;
  while ((nl = memchr(r->buf, '\n', r->len))) {
    size_t line = (size_t)(nl - r->buf);
    char *into = r->lines == 0 ? r->first : r->last;
    size_t keep = line < 599 ? line : 599;
    memcpy(into, r->buf, keep);
    into[keep] = '\0';
    r->lines++;
    r->len -= line + 1;
    memmove(r->buf, nl + 1, r->len);
  }
  /* A line longer than the buffer is cut. */
  if (r->len >= sizeof(r->buf) - 1) r->len = 0;
}

/* Moves the job's output until the init and every process holding its
 * pipes are gone (once the init is, so is every process of its namespace,
 * and the pipes then hold all there will be); announces the start as soon
 * as the init tells it. */
static void follow_job(const struct config *c, int report, pid_t init, struct reports *r) {
  int announced = 0;
  r->open = 1;
  for (;;) {
    int draining = !r->open;
    if (draining && !output.stream[0].open && !output.stream[1].open) return;
    struct pollfd fds[3];
    int map[3];
    int n = 0;
    if (r->open) {
      fds[n] = (struct pollfd){.fd = report, .events = POLLIN};
      map[n++] = -1;
    }
    /* Output waits for the start to be announced (a moment: the init tells
     * it right after the exec), so that the status file has its block
     * before output can fill the disk, and the start is told first. */
    for (int s = 0; s < 2 && (announced || !r->open); s++) {
      if (!output_wants(&output, s)) continue;
      fds[n] = (struct pollfd){.fd = output.stream[s].pipe, .events = POLLIN};
      map[n++] = s;
    }
    uint64_t wait_ns = 0;
    int timed = output_poll_timeout_ns(&output, &wait_ns);
    struct timespec timeout = {(time_t)(wait_ns / 1000000000ULL), (long)(wait_ns % 1000000000ULL)};
    int ready = ppoll(fds, (nfds_t)n, timed ? &timeout : NULL, NULL);
    if (ready < 0 && errno != EINTR) return;
    output_expire_deferrals(&output);
    for (int i = 0; i < n && ready > 0; i++) {
      if (!fds[i].revents) continue;
      if (map[i] < 0) {
        read_reports(report, r);
        if (!announced && r->lines > 0) {
          announced = 1;
          if (starts_with(r->first, "started")) {
            char started[64];
            snprintf(started, sizeof(started), "started %d %d", (int)init, (int)getpid());
            announce(c, started);
          }
        }
      } else {
        output_pump(&output, map[i], draining);
      }
    }
    /* Due streams go now, even if poll saw nothing new for them. */
    for (int s = 0; s < 2 && (announced || !r->open); s++) {
      if (output.stream[s].due && output.stream[s].open) output_pump(&output, s, draining);
    }
  }
}

static void cut_output(int sig) {
  (void)sig;
  output_cut = 1;
}

int main(int argc, char **argv) {
  struct config c;
  parse_args(argc, argv, &c);
  /* A broken pipe to the server must not kill the reporter. */
  signal(SIGPIPE, SIG_IGN);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) parent_fail(&c, "pipe");
  if (output_open(&output, c.stdout_path, c.stderr_path, c.index_path) < 0) parent_fail(&c, "open the job's output");
  if (unshare(CLONE_NEWPID) < 0) parent_fail(&c, "create a PID namespace");
  pid_t init = fork();
  if (init < 0) parent_fail(&c, "fork");
  if (init == 0) {
    close(pipefd[0]);
    report_fd = pipefd[1];
    run_init(&c);
  }
  close(pipefd[1]);
  output_close_job_ends(&output);
  /* The reporter outlives signals meant for the server's terminal. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  /* SIGUSR2 from the server cuts the job's output (its owner's disk quota);
   * without SA_RESTART, so that the wait for output returns at once. */
  struct sigaction cut;
  memset(&cut, 0, sizeof(cut));
  cut.sa_handler = cut_output;
  sigemptyset(&cut.sa_mask);
  sigaction(SIGUSR2, &cut, NULL);

  struct reports r;
  memset(&r, 0, sizeof(r));
  follow_job(&c, pipefd[0], init, &r);
  int status = wait_for(init);
  char line[600];
  if (r.lines == 0 || !starts_with(r.first, "started")) {
    if (r.lines > 0) snprintf(line, sizeof(line), "%s", r.first);
    else snprintf(line, sizeof(line), "failed the job's init ended before the command ran (status %d)", status);
    announce(&c, line);
    return 0;
  }
  if (r.lines > 1 && (starts_with(r.last, "exited ") || starts_with(r.last, "signaled "))) {
    snprintf(line, sizeof(line), "%s", r.last);
  } else {
    /* The init was killed with the job's cgroup (a stop, or an OOM kill). */
    if (status < 0) parent_fail(&c, "wait");
    if (WIFSIGNALED(status)) snprintf(line, sizeof(line), "signaled %d", WTERMSIG(status));
    else snprintf(line, sizeof(line), "exited %d", WEXITSTATUS(status));
  }
  /* Output the full disk had no room for: the server says so in the job's status. */
  unsigned long long lost = output.stream[0].lost + output.stream[1].lost;
  if (lost) {
    size_t used = strlen(line);
    snprintf(line + used, sizeof(line) - used, " lost %llu", lost);
  }
  /* Output dropped after the server cut it: the server says so too. */
  unsigned long long cut_bytes = output.stream[0].cut + output.stream[1].cut;
  if (cut_bytes) {
    size_t used = strlen(line);
    snprintf(line + used, sizeof(line) - used, " cut %llu", cut_bytes);
  }
  announce(&c, line);
  return 0;
}
