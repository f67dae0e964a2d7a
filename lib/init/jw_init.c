/*
 * jw-init: the launcher every jobworker job goes through.
 *
 * It does in one process what `sh` (cgroup join) + `unshare --fork` + `setpriv`
 * would do, but reports exactly what happened, which those tools cannot:
 *   - the job's exit code or terminating signal (util-linux 2.38 `unshare`
 *     turns a SIGKILLed child, e.g. an OOM kill, into "exit 1");
 *   - a command that could not be executed (missing binary, no permission,
 *     bad directory) as a start failure with the OS reason, through a
 *     close-on-exec pipe, instead of a job that "exited 127".
 *
 * The parent stays outside the job's cgroup (so stopping the job never kills
 * the reporter) and prints one line per event on stdout:
 *   started <pid> <own pid> the command is running (host PIDs of it and of us)
 *   failed <reason>         the command never ran
 *   exited <code>           the command exited
 *   signaled <signal>       the command was killed by a signal
 * The final line is also written atomically to --status FILE, so a restarted
 * server can read it.
 *
 * The child becomes PID 1 of new PID, mount, network, UTS and IPC namespaces,
 * joins the job's cgroup before anything else, makes mounts private, mounts a
 * fresh /proc and a read-only /sys, sets the hostname, brings `lo` up, points stdio at the output
 * files, drops every capability and supplementary group, switches to the job
 * user with no_new_privs, enters the working directory and executes the
 * command with exactly the environment given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIST 64
#define MAX_ENV 1024

struct config {
  const char *id;
  uid_t uid;
  gid_t gid;
  const char *stdout_path;
  const char *stderr_path;
  const char *status_path;
  const char *dir;
  const char *cgroups[MAX_LIST];
  int ncgroups;
  char *env[MAX_ENV + 1];
  int nenv;
  char **argv;
};

static void usage(void) {
  fprintf(stderr,
          "usage: jw-init --id ID --uid UID --gid GID --stdout FILE --stderr FILE\n"
          "               [--status FILE] [--dir DIR] [--cgroup PROCS_FILE]...\n"
          "               [--env K=V]... -- COMMAND [ARG]...\n");
  exit(2);
}

static void parse_args(int argc, char **argv, struct config *c) {
  memset(c, 0, sizeof(*c));
  c->uid = 65534;
  c->gid = 65534;
  c->dir = "/";
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
    else if (strcmp(a, "--status") == 0) c->status_path = v;
    else if (strcmp(a, "--dir") == 0) c->dir = v;
    else if (strcmp(a, "--cgroup") == 0 && c->ncgroups < MAX_LIST) c->cgroups[c->ncgroups++] = v;
    else if (strcmp(a, "--env") == 0 && c->nenv < MAX_ENV) c->env[c->nenv++] = (char *)v;
    else usage();
  }
  if (i >= argc || !c->id || !c->stdout_path || !c->stderr_path) usage();
  c->env[c->nenv] = NULL;
  c->argv = &argv[i];
}

/* Child side: report why we could not start, then die. */
static int report_fd = -1;

static void fail(const char *fmt, ...) {
  char msg[512];
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof(msg)) n = sizeof(msg) - 1;
  n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));
  if ((size_t)n >= sizeof(msg)) n = sizeof(msg) - 1;
  if (write(report_fd, msg, (size_t)n) < 0) { /* nothing left to tell */ }
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

static void redirect(int target, const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0640);
  if (fd < 0) fail("open %s", path);
  if (dup2(fd, target) < 0) fail("dup2 %s", path);
  close(fd);
}

/* Nothing but stdio (and the report pipe, until exec) reaches the job. */
static void close_other_descriptors(void) {
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < max && fd < 65536; fd++) {
    if (fd != report_fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
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

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void run_child(struct config *c) {
  /* The cgroup first: every byte and cycle from here on is the job's. */
  for (int i = 0; i < c->ncgroups; i++) write_file(c->cgroups[i], "0");
  if (setsid() < 0) fail("setsid");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make mounts private");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc");
  /* A sysfs of our own shows our network namespace (only lo) and none of the host's cgroups. */
  if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /sys");
  if (sethostname(c->id, strlen(c->id)) < 0) fail("set hostname");
  bring_lo_up();
  redirect(STDIN_FILENO, "/dev/null", O_RDONLY);
  redirect(STDOUT_FILENO, c->stdout_path, O_WRONLY | O_APPEND | O_CREAT);
  redirect(STDERR_FILENO, c->stderr_path, O_WRONLY | O_APPEND | O_CREAT);
  close_other_descriptors();
  drop_capabilities();
  if (setgroups(0, NULL) < 0) fail("clear groups");
  if (setresgid(c->gid, c->gid, c->gid) < 0) fail("set gid %u", c->gid);
  if (setresuid(c->uid, c->uid, c->uid) < 0) fail("set uid %u", c->uid);
  /* If the reporter dies, so does the job (it ignores the signals a terminal
   * sends, so that can only be deliberate). Set after the uid change, which
   * clears it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("set parent-death signal");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs");
  if (chdir(c->dir) < 0) fail("chdir %s", c->dir);
  reset_signals();
  environ = c->env;
  execvp(c->argv[0], c->argv);
  fail("exec \"%s\"", c->argv[0]);
}

/* Parent side. */
static void announce(const struct config *c, const char *line) {
  printf("%s\n", line);
  fflush(stdout);
  if (!c->status_path) return;
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", c->status_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;
  int ok = write(fd, line, strlen(line)) >= 0 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
  close(fd);
  if (ok) rename(tmp, c->status_path);
}

static void parent_fail(const struct config *c, const char *what) {
  char line[600];
  snprintf(line, sizeof(line), "failed %s: %s", what, strerror(errno));
  announce(c, line);
  exit(0);
}

int main(int argc, char **argv) {
  struct config c;
  parse_args(argc, argv, &c);
  /* A broken pipe to the server must not kill the reporter. */
  signal(SIGPIPE, SIG_IGN);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) parent_fail(&c, "pipe");
  if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0) {
    parent_fail(&c, "create namespaces");
  }
  pid_t child = fork();
  if (child < 0) parent_fail(&c, "fork");
  if (child == 0) {
    close(pipefd[0]);
    report_fd = pipefd[1];
    run_child(&c);
  }
  close(pipefd[1]);
  /* The reporter outlives signals meant for the server's terminal. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);

  char reason[512];
  ssize_t n;
  do {
    n = read(pipefd[0], reason, sizeof(reason) - 1);
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  char line[600];
  if (n > 0) {
    reason[n] = '\0';
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    snprintf(line, sizeof(line), "failed %s", reason);
    announce(&c, line);
    return 0;
  }
  snprintf(line, sizeof(line), "started %d %d", (int)child, (int)getpid());
  announce(&c, line);

  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) parent_fail(&c, "wait");
  }
  if (WIFEXITED(status)) snprintf(line, sizeof(line), "exited %d", WEXITSTATUS(status));
  else snprintf(line, sizeof(line), "signaled %d", WTERMSIG(status));
  announce(&c, line);
  return 0;
}
