#!/bin/busybox sh
# /init of the test VM (busybox sh, PID 1). Sets up a cgroup v2 host, runs
# `deno test` in the project tree and reports its exit status on the serial
# console as JW-VM-EXIT-<nonce>=<code> before powering off.
#
# Written by tests/vm/run.sh into the initramfs:
#   /jw/env   shell assignments: JW_NONCE, JW_PROJECT_DIR, ...
#   /jw/args  the `deno test` arguments, one per line
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

JW_NONCE=unset
finish() {
  echo "JW-VM-EXIT-$JW_NONCE=$1"
  sync
  poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 60
}
fail() {
  echo "jw-vm: init: $*"
  finish 125
}
step() { echo "jw-vm: [$(cut -d' ' -f1 /proc/uptime) s] $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The links udev or systemd make on a real system (bash's <(...) needs /dev/fd).
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
[ -f /jw/env ] || fail "no /jw/env in the initramfs"
. /jw/env
# The project sits at its host path; a clone under /tmp (as CI may make)
# would vanish under a tmpfs there, and the initramfs root is writable anyway.
case "$JW_PROJECT_DIR/" in
  /tmp/*) chmod 1777 /tmp ;;
  *) mount -t tmpfs -o mode=1777 tmpfs /tmp ;;
esac
step "kernel $(uname -r) up"

for m in $(cat /etc/jw-modules); do
  modprobe "$m" 2>/dev/null || echo "jw-vm: init: modprobe $m failed (built in?)"
done

# Scratch ext4 disk: a real block device for io.max tests.
i=0
while [ ! -b "$JW_TEST_DATA_DEV" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -b "$JW_TEST_DATA_DEV" ] || fail "no block device $JW_TEST_DATA_DEV"
mkdir -p "$JW_TEST_DATA_DIR"
mount -t ext4 "$JW_TEST_DATA_DEV" "$JW_TEST_DATA_DIR" || fail "cannot mount $JW_TEST_DATA_DEV"

# cgroup v2 the way systemd mounts it, all v1 controllers are disabled on the
# kernel command line. /ci is a delegated cgroup with every controller
# enabled for its children; the test runner gets its own cgroup, /ci/runner,
# holding only its processes, with every controller available to it but none
# enabled in its subtree_control: the runtime under test does that itself.
# Tests that start a runtime in another process can give it a fresh sibling
# cgroup under JW_TEST_CGROUP_PARENT=/sys/fs/cgroup/ci.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
  fail "cannot mount cgroup2"
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
    fail "cannot enable $c in the root cgroup"
done
mkdir -p /sys/fs/cgroup/ci
echo "$(sed 's/^/+/; s/ / +/g' /sys/fs/cgroup/cgroup.controllers)" \
  >/sys/fs/cgroup/ci/cgroup.subtree_control || fail "cannot delegate /ci"
mkdir -p /sys/fs/cgroup/ci/runner
export JW_TEST_CGROUP_PARENT=/sys/fs/cgroup/ci

hostname jw-vm
ip link set lo up || fail "cannot bring up lo"

mkdir -p /root/.cache/deno # run.sh may have filled it on the host
export DENO_DIR=/root/.cache/deno
export JW_TEST_VM=1 JW_TEST_DATA_DIR JW_TEST_DATA_DEV
export NO_COLOR=1 TERM=dumb

set --
while IFS= read -r arg; do set -- "$@" "$arg"; done </jw/args
cd "$JW_PROJECT_DIR" || fail "no project at $JW_PROJECT_DIR"
step "running deno test $* (cgroup /ci/runner, controllers: $(cat /sys/fs/cgroup/ci/cgroup.subtree_control))"
# Piped through cat so that deno writes plain lines, as it does in CI.
{
  sh -c 'echo $$ >/sys/fs/cgroup/ci/runner/cgroup.procs && exec "$@"' sh \
    deno test "$@" </dev/null
  echo $? >/run/jw-code
} 2>&1 | cat
code=$(cat /run/jw-code 2>/dev/null || echo 126)
step "deno test exited with $code"
if [ "$code" != 0 ]; then
  echo "jw-vm: last kernel messages:"
  dmesg | tail -n 30
fi
finish $code
