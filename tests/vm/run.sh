#!/usr/bin/env bash
# Runs the project's Deno tests inside a QEMU VM booted with cgroup v2.
#
# Usage: bash tests/vm/run.sh [deno test args / files...]
#   With no arguments it runs the whole suite (`deno test -A` in the repo
#   root); `-A` is always passed first. Exits with the status of `deno test`
#   inside the VM, 124 if the VM hit the timeout, and non-zero whenever the VM
#   did not report a status.
#
# Environment:
#   JW_VM_TIMEOUT      hard limit for the whole VM run (default 12m)
#   JW_VM_CPUS         virtual CPUs (default 2)
#   JW_VM_MEMORY       memory (default 4G)
#   JW_VM_QEMU_CPU     QEMU -cpu model (default: x86-64-v2 with AES-NI)
#   JW_VM_DISK_MB      size of the scratch ext4 disk (default 1024)
#   JW_VM_MAX_FILE_MB  project files larger than this are left out (default 16)
#   JW_VM_CACHE        cache directory (default: <repo>/.cache/vm)
#   JW_VM_HOST_CHECK   type-check on the host and run the VM with --no-check
#                      (default 1; 0 leaves type checking to deno inside the VM)
#   JW_VM_KEEP         keep the run directory (serial log, disk) when set to 1
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
timeout="${JW_VM_TIMEOUT:-12m}"
data_dir=/var/lib/jobworker-test
# x86-64-v2 plus AES-NI: measured faster under TCG than "max" (whose AVX
# paths cost more to emulate) and than plain qemu64 (software crypto).
cpu_model=qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+aes,+pclmulqdq
data_dev=/dev/vda

log() { printf 'jw-vm: %s\n' "$*" >&2; }
verdict() { # verdict STATUS MESSAGE: prints the last line and exits.
  printf 'jw-vm: %s\n' "$2"
  exit "$1"
}

# shell_quote VALUE: VALUE as one single-quoted word for busybox sh.
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# project_files: paths (relative to /) of the project tree to copy into the
# VM, parents first. Leaves out git metadata, caches, the deno binary (the
# image has it) and oversized build products.
project_files() {
  local rel="${repo#/}" max_kb=$((${JW_VM_MAX_FILE_MB:-16} * 1024)) big
  local parent="$rel"
  local parents=()
  while [[ "$parent" == */* ]]; do
    parent="${parent%/*}"
    parents=("$parent" "${parents[@]}")
  done
  printf '%s\n' "${parents[@]}"
  cd /
  big="$(find "$rel" -path "$rel/.git" -prune -o -path "$rel/.cache" -prune -o \
    -path "$rel/node_modules" -prune -o -type f -size "+${max_kb}k" -print)"
  [[ -z "$big" ]] || log "leaving out files over ${JW_VM_MAX_FILE_MB:-16} MB: $(echo $big)"
  find "$rel" \
    \( -path "$rel/.git" -o -path "$rel/.cache" -o -path "$rel/tmp" \
    -o -path "$rel/node_modules/@deno" -o -path "$rel/node_modules/deno/deno" \
    -o -path "$rel/node_modules/.bin/deno" \) -prune \
    -o \( -type f -size "+${max_kb}k" \) -prune -o -print
}

# host_check ARGS...: type-checks the tests on the host. Type checking does
# not depend on the kernel and is the slowest part of a run under emulation
# (about 35 s for a single file), so the VM then runs with --no-check.
# Returns 1 when the check failed (its output is printed), 2 when it was not
# done (JW_VM_HOST_CHECK=0 or the arguments choose their own checking).
host_check() {
  local arg deno started=$SECONDS
  [[ "${JW_VM_HOST_CHECK:-1}" == 1 ]] || return 2
  for arg in "$@"; do
    case "$arg" in --check* | --no-check*) return 2 ;; esac
  done
  deno="$repo/node_modules/.bin/deno"
  [[ -x "$deno" ]] || deno="$(command -v deno)" || return 2
  if ! (cd "$repo" && NO_COLOR=1 "$deno" test --no-run "$@" 2>&1); then
    return 1
  fi
  log "type-checked on the host in $((SECONDS - started)) s"
}

# copy_project_libs IMAGE DEST: copies into DEST the shared libraries that
# programs built in the project tree (e.g. build/jw-init) need and the base
# image lacks.
copy_project_libs() {
  local image="$1" dest="$2" file lib
  while read -r file; do
    [[ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" == '177ELF' ]] || continue
    while read -r lib; do
      grep -qxF "${lib#/}" "$image/files.txt" || [[ -e "$dest$lib" ]] ||
        install -D -m 755 "$(readlink -f "$lib")" "$dest$lib"
    done < <(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true)
  done < <(find "$repo" \( -path "$repo/.git" -o -path "$repo/.cache" \
    -o -path "$repo/node_modules" \) -prune -o -type f -perm -u+x -print)
}

main() {
  local args=(-A "$@")
  local image
  image="$(bash "$here/build_image.sh" | tail -n 1)" ||
    verdict 1 "FAIL: could not build the VM image"
  [[ -f "$image/base.cpio" ]] || verdict 1 "FAIL: no VM image"

  local run busybox="$image/busybox"
  mkdir -p "${JW_VM_CACHE:-$repo/.cache/vm}"
  # Run directories of runs killed before their cleanup, older than a day.
  find "${JW_VM_CACHE:-$repo/.cache/vm}" -maxdepth 1 -name 'run.*' -mmin +1440 \
    -exec rm -rf {} + 2>/dev/null || true
  run="$(mktemp -d "${JW_VM_CACHE:-$repo/.cache/vm}/run.XXXXXX")"
  if [[ "${JW_VM_KEEP:-0}" != 1 ]]; then
    # shellcheck disable=SC2064 # expand now: run is local
    trap "rm -rf '$run'" EXIT
  fi

  # Per-run parts of the initramfs: the project tree and the run's settings,
  # appended to the cached base archive (the kernel unpacks them in turn).
  local nonce
  nonce="$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  mkdir -p "$run/cfg/jw" "$run/cfg/${repo#/}/node_modules/deno"
  {
    echo "JW_NONCE=$nonce"
    echo "JW_PROJECT_DIR=$(shell_quote "$repo")"
    echo "JW_TEST_DATA_DIR=$data_dir"
    echo "JW_TEST_DATA_DEV=$data_dev"
  } >"$run/cfg/jw/env"
  local checked=0
  host_check "${args[@]}" || checked=$?
  [[ $checked != 1 ]] || verdict 1 "FAIL: type check failed on the host"
  [[ $checked != 0 ]] || args=(-A --no-check "$@")
  printf '%s\n' "${args[@]}" >"$run/cfg/jw/args"
  ln -s /usr/local/bin/deno "$run/cfg/${repo#/}/node_modules/deno/deno"
  mkdir -p "$run/cfg/${repo#/}/node_modules/.bin"
  ln -s ../deno/deno "$run/cfg/${repo#/}/node_modules/.bin/deno"
  copy_project_libs "$image" "$run/cfg"
  (cd "$run/cfg" && find . -mindepth 1 | sed 's|^\./||' | "$busybox" cpio -o -H newc 2>/dev/null) \
    >"$run/cfg.cpio"
  (project_files | (cd / && "$busybox" cpio -o -H newc 2>/dev/null)) >"$run/project.cpio"
  cat "$image/base.cpio" "$run/project.cpio" "$run/cfg.cpio" >"$run/initrd.cpio"
  rm "$run/project.cpio" "$run/cfg.cpio"

  truncate -s "${JW_VM_DISK_MB:-1024}M" "$run/data.img"
  mkfs.ext4 -q -F -L jw-data "$run/data.img"

  log "booting VM (timeout $timeout, initrd $(du -h "$run/initrd.cpio" | cut -f1))"
  local started=$SECONDS qemu_status=0
  timeout --kill-after=10 "$timeout" qemu-system-x86_64 \
    -nodefaults -no-user-config -no-reboot \
    -accel tcg,thread=multi -cpu "${JW_VM_QEMU_CPU:-$cpu_model}" -smp "${JW_VM_CPUS:-2}" -m "${JW_VM_MEMORY:-4G}" \
    -display none -monitor none -serial stdio \
    -kernel "$image/vmlinuz" -initrd "$run/initrd.cpio" \
    -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=1 cgroup_no_v1=all" \
    -drive "file=$run/data.img,format=raw,if=virtio,cache=unsafe" \
    -device virtio-rng-pci \
    </dev/null 2>&1 | sed -u 's/\r$//' | tee "$run/serial.log" ||
    qemu_status="${PIPESTATUS[0]}"
  local elapsed=$((SECONDS - started))

  local marker code
  marker="$(grep -a "^JW-VM-EXIT-$nonce=" "$run/serial.log" | tail -n 1 || true)"
  code="${marker#*=}"
  local counts
  counts="$(grep -aE '^(ok|FAILED) \| [0-9]+ passed' "$run/serial.log" | tail -n 1 |
    sed -E 's/^[A-Z a-z]+\| ([0-9]+) passed[^|]*\| ([0-9]+) failed.*/\1 passed, \2 failed/' || true)"
  if [[ -z "$marker" ]]; then
    if [[ "$qemu_status" == 124 || "$qemu_status" == 137 ]]; then
      verdict 124 "FAIL: VM timed out after $timeout (no exit status reported)"
    fi
    verdict 1 "FAIL: VM stopped after ${elapsed} s without reporting an exit status (qemu status $qemu_status)"
  fi
  [[ -z "$counts" ]] || printf 'vm: %s\n' "$counts"
  [[ "$code" =~ ^[0-9]+$ ]] || verdict 1 "FAIL: garbled exit status '$code' from the VM"
  if [[ "$code" == 0 ]]; then
    verdict 0 "PASS: deno test passed in the cgroup v2 VM (${elapsed} s)"
  fi
  verdict "$code" "FAIL: deno test exited with $code in the cgroup v2 VM (${elapsed} s)"
}

main "$@"
