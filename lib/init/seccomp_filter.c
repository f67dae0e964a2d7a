/*
 * The job's seccomp filter, after Docker's default profile: everything is
 * allowed except what can reach past the job's sandbox or attack the kernel
 * with little use to a job, and those fail with EPERM (not a kill), so
 * programs degrade as they do without the privilege:
 *   - new namespaces (clone/unshare with any CLONE_NEW* flag, setns): above
 *     all user namespaces, which would give the job capabilities again;
 *   - the kernel keyrings (add_key, keyctl, request_key);
 *   - bpf, perf_event_open, userfaultfd, io_uring_*;
 *   - mounting (mount, umount2, pivot_root, the fsopen/fsmount family);
 *   - kexec, modules, swap, reboot, clocks, quotas, accounting, syslog;
 *   - personality flags that turn off address randomisation or mark data
 *     executable.
 * clone3 fails with ENOSYS, so C libraries fall back to clone, whose flags a
 * filter can see. 32-bit and x32 system calls get the same rules.
 * The policy may allow some of these again or deny more (--allow/--deny).
 * Compiling the rules takes libseccomp ~0.9 ms; loading a compiled program
 * ~0.2 ms. So the server has it compiled once per policy
 * (`jw-init --export-seccomp FILE`) and each launch loads the program
 * (`--seccomp FILE`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jw_init.h"

static const char *const DENIED[] = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
    "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "init_module",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load", "keyctl",
    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "nfsservctl", "open_by_handle_at",
    "open_tree", "perf_event_open", "pivot_root", "query_module", "quotactl", "quotactl_fd", "reboot",
    "request_key", "setns", "settimeofday", "stime", "swapoff", "swapon", "_sysctl", "syslog", "umount",
    "umount2", "uselib", "userfaultfd", "ustat", "vhangup", "vm86", "vm86old",
};

static const unsigned long NAMESPACE_FLAGS[] = {
    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
};

static const unsigned long PERSONALITY_FLAGS[] = {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO};

static int listed(const char *name, const char *const *list, int n) {
  for (int i = 0; i < n; i++) {
    if (strcmp(list[i], name) == 0) return 1;
  }
  return 0;
}

static void check(int rc, const char *what) {
  if (rc < 0) {
    errno = -rc;
    fail("seccomp: %s", what);
  }
}

static void deny(scmp_filter_ctx ctx, const struct config *c, const char *name, int unknown_ok) {
  if (listed(name, c->allow, c->nallow)) return;
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) {
    if (unknown_ok) return;
    errno = EINVAL;
    fail("seccomp policy: no system call named \"%s\"", name);
  }
  check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0), name);
}

/* EPERM when arg0 has `flag` set. */
static void deny_flag(scmp_filter_ctx ctx, const struct config *c, const char *name, unsigned long flag) {
  if (listed(name, c->allow, c->nallow)) return;
  check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), seccomp_syscall_resolve_name(name), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
        name);
}

static scmp_filter_ctx build_filter(const struct config *c) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) fail("seccomp: init");
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    int rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
    if (rc != -EEXIST) check(rc, "add the x86 architecture");
    rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
    if (rc != -EEXIST) check(rc, "add the x32 architecture");
  }
  for (size_t i = 0; i < sizeof(DENIED) / sizeof(DENIED[0]); i++) deny(ctx, c, DENIED[i], 1);
  for (int i = 0; i < c->ndeny; i++) deny(ctx, c, c->deny[i], 0);
  for (size_t i = 0; i < sizeof(NAMESPACE_FLAGS) / sizeof(NAMESPACE_FLAGS[0]); i++) {
    deny_flag(ctx, c, "clone", NAMESPACE_FLAGS[i]);
    deny_flag(ctx, c, "unshare", NAMESPACE_FLAGS[i]);
  }
  for (size_t i = 0; i < sizeof(PERSONALITY_FLAGS) / sizeof(PERSONALITY_FLAGS[0]); i++) {
    if (listed("personality", c->allow, c->nallow)) break;
    /* 0xffffffff only asks for the current persona: no persona sets bit 31. */
    check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                           SCMP_A0(SCMP_CMP_MASKED_EQ, PERSONALITY_FLAGS[i] | 0x80000000UL, PERSONALITY_FLAGS[i])),
          "personality");
  }
  if (!listed("clone3", c->allow, c->nallow)) {
    check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
  }
  return ctx;
}

void export_seccomp(const struct config *c, const char *path) {
  scmp_filter_ctx ctx = build_filter(c);
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("create %s", tmp);
  check(seccomp_export_bpf(ctx, fd), "export the filter");
  if (fsync(fd) < 0 || close(fd) < 0) fail("write %s", tmp);
  if (rename(tmp, path) < 0) fail("rename %s", tmp);
  seccomp_release(ctx);
}

void read_seccomp(const char *path, struct sock_fprog *prog) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0) fail("stat %s", path);
  if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 || st.st_size > 65536) {
    errno = EINVAL;
    fail("seccomp program %s", path);
  }
  struct sock_filter *filter = malloc((size_t)st.st_size);
  if (!filter) fail("read %s", path);
  for (off_t at = 0; at < st.st_size;) {
    ssize_t n = read(fd, (char *)filter + at, (size_t)(st.st_size - at));
    if (n <= 0) fail("read %s", path);
    at += n;
  }
  close(fd);
  prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
  prog->filter = filter;
}

void load_seccomp(const struct config *c, const struct sock_fprog *prepared) {
  if (prepared->filter) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prepared) < 0) fail("seccomp: load the filter");
    return;
  }
  scmp_filter_ctx ctx = build_filter(c);
  check(seccomp_load(ctx), "load the filter");
  seccomp_release(ctx);
}
