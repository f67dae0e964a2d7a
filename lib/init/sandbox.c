/*
 * The job's filesystem view, built in the job's own mount namespace:
 *   /            a small tmpfs, read-only once built
 *   <ro paths>   read-only, nosuid, nodev binds of the chosen host paths
 *                (symlinks such as /bin -> usr/bin are recreated as links)
 *   /proc        a fresh procfs of the job's PID namespace, with the kernel's
 *                sensitive files masked as Docker does
 *   /sys         a fresh read-only sysfs (shows only the job's network)
 *   /dev         null zero full random urandom tty, fd/std* links, and shm
 *   /tmp /var/tmp /dev/shm
 *                private tmpfs of a bounded size; their pages are charged to
 *                the job's memory cgroup and vanish with the namespace
 *   /work        the job's working directory (a bind of its host directory)
 * then pivot_root into it and detach the host's root, so no path leads back.
 * On an initramfs root, which cannot be pivoted, the new root is moved onto
 * / and chrooted into instead (the job has no capability to leave a chroot).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jw_init.h"

static const char *root;

/* `path` (absolute, inside the view) as a host path below the new root. */
static const char *at(const char *path) {
  static char buf[2][PATH_MAX];
  static int which;
  char *out = buf[which ^= 1];
  if (snprintf(out, PATH_MAX, "%s%s", root, path) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    fail("path %s", path);
  }
  return out;
}

/* mkdir -p of `path` inside the view. */
static void make_dirs(const char *path, mode_t mode) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s", path);
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char saved = *s;
    *s = '\0';
    if (mkdir(at(p), mode) < 0 && errno != EEXIST) fail("mkdir %s", p);
    *s = saved;
    if (saved == '\0') return;
  }
}

static void make_parents(const char *path) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s", path);
  char *slash = strrchr(p, '/');
  if (slash && slash != p) {
    *slash = '\0';
    make_dirs(p, 0755);
  }
}

static void set_attrs(const char *target, unsigned long long attrs, unsigned long fallback) {
  struct mount_attr attr = {.attr_set = attrs};
  if (mount_setattr(AT_FDCWD, target, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr, sizeof(attr)) == 0) return;
  if (errno != ENOSYS) fail("set mount flags of %s", target);
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | fallback, NULL) < 0) fail("remount %s", target);
}

static void bind_read_only(const char *host) {
  struct stat st;
  if (lstat(host, &st) < 0) fail("bind %s", host);
  make_parents(host);
  const char *target = at(host);
  if (S_ISLNK(st.st_mode)) {
    char link[PATH_MAX];
    ssize_t n = readlink(host, link, sizeof(link) - 1);
    if (n < 0) fail("readlink %s", host);
    link[n] = '\0';
    if (symlink(link, target) < 0 && errno != EEXIST) fail("symlink %s", host);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(target, 0755) < 0 && errno != EEXIST) fail("mkdir %s", host);
  } else {
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("create %s", host);
    close(fd);
  }
  if (mount(host, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind %s", host);
  set_attrs(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, MS_RDONLY | MS_NOSUID | MS_NODEV);
}

static void mount_tmpfs(const char *path, unsigned long flags, const char *options) {
  make_dirs(path, 0755);
  if (mount("tmpfs", at(path), "tmpfs", flags, options) < 0) fail("mount tmpfs on %s", path);
}

static void private_tmpfs(const char *path, unsigned long flags, unsigned long long bytes) {
  char options[128];
  snprintf(options, sizeof(options), "mode=1777,size=%llu,nr_inodes=262144", bytes);
  mount_tmpfs(path, MS_NOSUID | MS_NODEV | flags, options);
}

static void make_devices(void) {
  static const struct {
    const char *name;
    unsigned major, minor;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  static const struct {
    const char *name, *target;
  } links[] = {{"fd", "/proc/self/fd"},
               {"stdin", "/proc/self/fd/0"},
               {"stdout", "/proc/self/fd/1"},
               {"stderr", "/proc/self/fd/2"}};
  mount_tmpfs("/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64");
  char path[64];
  for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
    snprintf(path, sizeof(path), "/dev/%s", nodes[i].name);
    if (mknod(at(path), S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0) fail("mknod %s", path);
  }
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
    snprintf(path, sizeof(path), "/dev/%s", links[i].name);
    if (symlink(links[i].target, at(path)) < 0) fail("symlink %s", path);
  }
}

/* Files of /proc a job has no business with: hidden behind /dev/null, or
 * read-only (as Docker's default masked and read-only paths). */
static void mask_proc(void) {
  static const char *hidden[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                                 "/proc/acpi", "/proc/scsi"};
  static const char *read_only[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"};
  for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
    struct stat st;
    const char *target = at(hidden[i]);
    if (stat(target, &st) < 0) continue;
    int ok = S_ISDIR(st.st_mode)
                 ? mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=1")
                 : mount(at("/dev/null"), target, NULL, MS_BIND, NULL);
    if (ok < 0) fail("mask %s", hidden[i]);
  }
  for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
    const char *target = at(read_only[i]);
    if (access(target, F_OK) < 0) continue;
    if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind %s", read_only[i]);
    set_attrs(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
}

static void switch_root(void) {
  if (chdir(root) < 0) fail("chdir %s", root);
  /* pivot_root(".", ".") stacks the old root on the new one; detaching it
   * leaves nothing of the host reachable. */
  if (syscall(SYS_pivot_root, ".", ".") == 0) {
    if (umount2(".", MNT_DETACH) < 0) fail("detach the host's root");
  } else if (errno == EINVAL) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("move the job's root onto /");
    if (chroot(".") < 0) fail("chroot");
  } else {
    fail("pivot_root");
  }
  if (chdir("/") < 0) fail("chdir /");
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
    fail("make / read-only");
  }
}

void enter_sandbox(const struct config *c) {
  root = c->root_mount;
  if (mount("jw-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096") < 0) {
    fail("mount the job's root on %s", root);
  }
  /* The private tmpfs first, so that a bound path beneath them (a project
   * checked out under /tmp) still shows. */
  private_tmpfs("/tmp", 0, c->tmp_bytes);
  private_tmpfs("/var/tmp", 0, c->tmp_bytes);
  for (int i = 0; i < c->nro; i++) bind_read_only(c->ro[i]);
  make_dirs("/proc", 0555);
  if (mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc");
  make_dirs("/sys", 0555);
  if (mount("sysfs", at("/sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
    fail("mount /sys");
  }
  make_devices();
  mask_proc();
  private_tmpfs("/dev/shm", MS_NOEXEC, c->tmp_bytes);
  make_dirs("/work", 0755);
  if (mount(c->work, at("/work"), NULL, MS_BIND, NULL) < 0) fail("bind the working directory");
  set_attrs(at("/work"), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, MS_NOSUID | MS_NODEV);
  switch_root();
}
