/*
 * jw-probe: what the isolation tests run inside jobs, built statically by
 * lib/init/build.sh (so it runs in any job's view) and bound into the jobs
 * that need it.
 *
 *   jw-probe try NAME...   tries each operation, prints "NAME ok" or
 *                          "NAME <errno name>" per line
 *   jw-probe inotify N     opens up to N inotify instances, prints how many
 *                          it got, then sleeps holding them (until killed)
 *   jw-probe orphans       leaves a grandchild to be reparented to PID 1,
 *                          waits for it to exit there, and prints how many
 *                          zombies the PID namespace then holds
 *   jw-probe sparse N      makes its stdout N bytes long without writing
 *                          them (ftruncate: a sparse file)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EFAULT: return "EFAULT";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case EBUSY: return "EBUSY";
    default: return strerror(e);
  }
}

static long try_one(const char *name) {
  if (strcmp(name, "unshare-user") == 0) return unshare(CLONE_NEWUSER);
  if (strcmp(name, "unshare-net") == 0) return unshare(CLONE_NEWNET);
  if (strcmp(name, "clone-user") == 0) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
  }
  if (strcmp(name, "mount") == 0) return mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
  if (strcmp(name, "add_key") == 0) return syscall(SYS_add_key, "user", "jw-probe", "secret", 6, -4 /* @u */);
  if (strcmp(name, "keyctl") == 0) return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -4, 0);
  if (strcmp(name, "bpf") == 0) return syscall(SYS_bpf, 0, NULL, 0);
  if (strcmp(name, "io_uring_setup") == 0) {
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    return syscall(SYS_io_uring_setup, 1, &p);
  }
  if (strcmp(name, "userfaultfd") == 0) return syscall(SYS_userfaultfd, 0);
  if (strcmp(name, "personality-norandom") == 0) return personality(ADDR_NO_RANDOMIZE);
  if (strcmp(name, "personality-query") == 0) return personality(0xffffffff);
  if (strcmp(name, "fork") == 0) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, NULL, 0);
    return pid < 0 ? -1 : 0;
  }
  fprintf(stderr, "jw-probe: unknown operation %s\n", name);
  exit(2);
}

static int zombies(void) {
  int n = 0;
  DIR *d = opendir("/proc");
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    char path[300], buf[512];
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "re");
    if (!f) continue;
    if (fgets(buf, sizeof(buf), f)) {
      char *paren = strrchr(buf, ')');
      if (paren && paren[1] == ' ' && paren[2] == 'Z') n++;
    }
    fclose(f);
  }
  closedir(d);
  return n;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "try") == 0) {
    for (int i = 2; i < argc; i++) {
      errno = 0;
      long rc = try_one(argv[i]);
      printf("%s %s\n", argv[i], rc < 0 ? errno_name(errno) : "ok");
    }
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "inotify") == 0) {
    int want = atoi(argv[2]), got = 0;
    while (got < want && inotify_init1(IN_CLOEXEC) >= 0) got++;
    printf("%d\n", got);
    fflush(stdout);
    for (;;) pause();
  }
  if (argc == 2 && strcmp(argv[1], "orphans") == 0) {
    pid_t middle = fork();
    if (middle == 0) {
      if (fork() == 0) {
        pause_ms(100);
        _exit(0);
      }
      _exit(0);
    }
    waitpid(middle, NULL, 0);
    pause_ms(600);
    printf("%d\n", zombies());
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "sparse") == 0) {
    if (ftruncate(STDOUT_FILENO, strtoll(argv[2], NULL, 10)) < 0) {
      perror("ftruncate");
      return 1;
    }
    return 0;
  }
  fprintf(stderr, "usage: jw-probe try NAME... | inotify N | orphans | sparse N\n");
  return 2;
}
