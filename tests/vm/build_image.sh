#!/usr/bin/env bash
# Builds (or reuses from the cache) the parts of the test VM that do not
# depend on the project tree: a Debian kernel and a base initramfs holding
# busybox, deno with its glibc libraries, a few util-linux/iproute2 tools and
# the kernel modules needed for virtio disks and ext4.
#
# Usage: bash tests/vm/build_image.sh
# Prints the image directory (holding vmlinuz, base.cpio and its file list
# files.txt) as its last line
# on stdout; progress goes to stderr.
#
# Environment:
#   JW_VM_CACHE       cache directory (default: <repo>/.cache/vm)
#   JW_VM_EXTRA_BINS  more host programs to copy with their libraries, as
#                     PATH or PATH:DEBIAN-PACKAGE (installed if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${JW_VM_CACHE:-$repo/.cache/vm}"

# Host programs that tests may run inside the VM, as PATH:DEBIAN-PACKAGE.
# util-linux and iproute2 versions take precedence over busybox applets of
# the same name in PATH.
host_programs=(
  /usr/bin/unshare:util-linux /usr/bin/setpriv:util-linux
  /usr/bin/nsenter:util-linux /usr/bin/prlimit:util-linux
  /usr/bin/mount:mount /usr/bin/umount:mount /usr/sbin/ip:iproute2
  /bin/bash:bash /bin/dash:dash /usr/bin/openssl:openssl
  /usr/bin/script:bsdutils
)
# Host files copied as they are (configuration the programs read).
host_files=(/etc/ssl/openssl.cnf /usr/lib/ssl/openssl.cnf)
# shellcheck disable=SC2206 # word splitting is the point here
host_programs+=(${JW_VM_EXTRA_BINS:-})
host_bins=("${host_programs[@]%%:*}")

# Kernel modules to load at boot (dependencies are resolved by modprobe).
modules=(virtio_pci virtio_blk virtio-rng ext4 crc32c_generic)

log() { printf 'jw-vm: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

apt_updated=0
apt_update_once() {
  if [[ $apt_updated == 0 ]]; then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# ensure_command CMD PACKAGE: installs PACKAGE with apt-get if CMD is missing.
ensure_command() {
  local cmd="$1" pkg="$2"
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "$cmd" ]]; then
    apt_update_once
    log "installing $pkg"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "$pkg" >&2
  fi
}

# The kernel and busybox-static are unpacked into the cache rather than
# installed: installing a kernel runs initramfs and boot loader hooks on the
# host, and busybox-static conflicts with the host's busybox package.
# package_versions: prints "KERNEL-PACKAGE KERNEL-VERSION BUSYBOX-VERSION" of
# the candidates apt would install (one apt-cache call: it is slow).
package_versions() {
  apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null |
    awk '
      /^Package:/ { pkg = $2 }
      pkg == "busybox-static" && /^Version:/ { bb = $2 }
      pkg == "linux-image-amd64" && /^Depends:/ {
        if (match($0, /linux-image-[0-9][^ ,]* \(= [^)]*\)/)) {
          split(substr($0, RSTART, RLENGTH), d, /[ ()=]+/)
          kpkg = d[1]; kver = d[2]
        }
      }
      END { if (kpkg != "" && bb != "") print kpkg, kver, bb }'
}

fetch_and_unpack() { # fetch_and_unpack DEST PACKAGE...
  local dest="$1" deb
  shift
  local dl
  dl="$(mktemp -d)"
  chmod 755 "$dl"
  (cd "$dl" && apt-get download -qq "$@" >&2 2>/dev/null) ||
    (cd "$dl" && apt-get download "$@" >&2) ||
    die "apt-get download $* failed"
  mkdir -p "$dest"
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
  rm -rf "$dl"
}

# copy_with_libs ROOT FILE...: copies each program to the same path under
# ROOT, together with the shared libraries and loader ldd reports for it.
copy_with_libs() {
  local root="$1" file lib
  shift
  for file in "$@"; do
    [[ -e "$file" ]] || die "missing host program $file"
    install -D -m 755 "$(readlink -f "$file")" "$root$file"
    while read -r lib; do
      [[ -e "$root$lib" ]] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
    done < <(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true)
  done
}

# module_closure MODDIR NAME...: prints the module files for NAME and what
# they depend on, according to MODDIR/modules.dep.
module_closure() {
  local moddir="$1" name
  shift
  for name in "$@"; do
    local file
    file="$(find "$moddir/kernel" -name "${name//-/[-_]}.ko*" | head -n 1)"
    [[ -n "$file" ]] || continue # built into the kernel
    file="${file#"$moddir/"}"
    echo "$file"
    grep "^$file:" "$moddir/modules.dep" | cut -d: -f2 | tr ' ' '\n' | sed '/^$/d'
  done | sort -u
}

deno_binary() {
  local d
  for d in "$repo"/node_modules/@deno/linux-x64-glibc/deno "$repo/node_modules/.bin/deno"; do
    if [[ -x "$d" ]]; then
      readlink -f "$d"
      return
    fi
  done
  command -v deno || die "no deno binary (run npm ci in $repo)"
}

main() {
  [[ $(id -u) == 0 ]] || die "must run as root (apt-get, mkfs)"
  ensure_command qemu-system-x86_64 qemu-system-x86
  ensure_command mkfs.ext4 e2fsprogs
  local prog
  for prog in "${host_programs[@]}"; do
    [[ "$prog" != *:* ]] || ensure_command "${prog%%:*}" "${prog#*:}"
  done
  local versions
  versions="$(package_versions)"
  if [[ -z "$versions" ]]; then
    apt_update_once
    versions="$(package_versions)"
  fi
  [[ -n "$versions" ]] || die "apt knows no linux-image-amd64 or busybox-static"
  local kpkg kver bbver deno key
  read -r kpkg kver bbver <<<"$versions"
  deno="$(deno_binary)"
  key="$(
    {
      echo "$kpkg $kver busybox-static $bbver ${host_bins[*]} ${modules[*]}"
      dpkg-query -W coreutils
      sha256sum "$deno" "${BASH_SOURCE[0]}" "$here/init.sh" | cut -d' ' -f1
      for b in "${host_bins[@]}"; do [[ -e "$b" ]] && sha256sum "$(readlink -f "$b")" | cut -d' ' -f1; done
    } | sha256sum | cut -c1-16
  )"
  local out="$cache/image-$key"
  if [[ -f "$out/base.cpio" && -f "$out/vmlinuz" && -x "$out/busybox" && -f "$out/files.txt" ]]; then
    log "image cached: $out"
    echo "$out"
    return
  fi

  local started=$SECONDS
  log "building image $out ($kpkg $kver, busybox-static $bbver)"
  local pkgs="$cache/pkgs/$kpkg-$kver-busybox-$bbver"
  if [[ ! -d "$pkgs" ]]; then
    apt_update_once
    fetch_and_unpack "$pkgs.tmp" "$kpkg" busybox-static
    mv "$pkgs.tmp" "$pkgs"
  fi
  local kname
  kname="$(basename "$(ls -d "$pkgs"/lib/modules/*)")"
  local moddir="$pkgs/lib/modules/$kname"
  [[ -f "$moddir/modules.dep" ]] || "$pkgs/bin/busybox" depmod -b "$pkgs" "$kname"

  local tmp="$out.tmp" root
  rm -rf "$tmp"
  root="$tmp/root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,run,tmp,root,var/lib}
  chmod 700 "$root/root" # as on Debian: jobs run as nobody must not enter it

  # busybox provides /bin/sh and the usual tools as symlinks in /bin.
  install -m 755 "$pkgs/bin/busybox" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
  done
  ln -sf ../bin/busybox "$root/sbin/modprobe"

  copy_with_libs "$root" "${host_bins[@]}"
  # GNU coreutils replace the busybox applets (date +%N, dd's output ...), as
  # on production hosts.
  local coreutils=()
  mapfile -t coreutils < <(dpkg -L coreutils | grep -E '^/(usr/)?s?bin/.' |
    while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
  copy_with_libs "$root" "${coreutils[@]}"
  # /bin/sh is dash as on Debian: Debian's static busybox sh runs its own
  # applets before PATH, which would hide coreutils from `sh -c` jobs.
  ln -sfn dash "$root/bin/sh"
  local file
  for file in "${host_files[@]}"; do
    [[ ! -e "$file" ]] || install -D -m 644 "$(readlink -f "$file")" "$root$file"
  done
  install -D -m 755 "$deno" "$root/usr/local/bin/deno"
  while read -r lib; do
    [[ -e "$root$lib" ]] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
  done < <(ldd "$deno" | grep -o '/[^ ]*')
  ldconfig -r "$root" 2>/dev/null || true

  local mod
  mkdir -p "$root/lib/modules/$kname"
  for mod in $(module_closure "$moddir" "${modules[@]}"); do
    install -D -m 644 "$moddir/$mod" "$root/lib/modules/$kname/$mod"
  done
  grep -F -f <(module_closure "$moddir" "${modules[@]}" | sed 's/$/:/') \
    "$moddir/modules.dep" >"$root/lib/modules/$kname/modules.dep"
  printf '%s\n' "${modules[@]}" >"$root/etc/jw-modules"

  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nobody:x:65534:' >"$root/etc/group"
  printf '%s\n' '127.0.0.1 localhost jw-vm' '::1 localhost ip6-localhost' >"$root/etc/hosts"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files' >"$root/etc/nsswitch.conf"
  echo jw-vm >"$root/etc/hostname"
  install -m 755 "$here/init.sh" "$root/init"

  (cd "$root" && find . -mindepth 1 | sed 's|^\./||' >"$tmp/files.txt")
  (cd "$root" && "$root/bin/busybox" cpio -o -H newc <"$tmp/files.txt" 2>/dev/null) \
    >"$tmp/base.cpio"
  cp "$pkgs/boot/vmlinuz-$kname" "$tmp/vmlinuz"
  cp "$pkgs/bin/busybox" "$tmp/busybox" # run.sh packs the project with it
  rm -rf "$root"
  rm -rf "$out"
  mv "$tmp" "$out"
  find "$cache" -maxdepth 1 -name 'image-*' ! -path "$out" -exec rm -rf {} +
  find "$cache/pkgs" -mindepth 1 -maxdepth 1 ! -path "$pkgs" -exec rm -rf {} +
  log "image built in $((SECONDS - started)) s: $(du -sh "$out" | cut -f1)"
  echo "$out"
}

main "$@"
