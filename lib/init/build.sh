#!/bin/sh
# Builds build/jw-init, the job launcher (see lib/init/jw_init.c), and
# build/jw-probe, the test suite's system-call probe (tests/_probe.c), when a
# source is newer than the binary. Needs a C compiler (cc/gcc) and libseccomp
# (Debian's libseccomp-dev, installed here when missing and run as root);
# libseccomp is linked statically, so the launcher runs wherever the kernel
# has seccomp.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
out="$here/build/jw-init"
probe="$here/build/jw-probe"
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || cc=gcc
flags="-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong"

newer() { # newer TARGET SOURCE...: whether a source is newer than TARGET
  target=$1
  shift
  [ -x "$target" ] || return 0
  for src in "$@"; do [ "$src" -nt "$target" ] && return 0; done
  return 1
}

mkdir -p "$here/build"
srcs="$here/lib/init/jw_init.c $here/lib/init/output.c $here/lib/init/sandbox.c $here/lib/init/seccomp_filter.c"
# shellcheck disable=SC2086 # word splitting of the source list is the point
if newer "$out" $srcs "$here/lib/init/jw_init.h" "$0"; then
  if [ ! -e /usr/include/seccomp.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build: installing libseccomp-dev" >&2
    (apt-get install -y -qq --no-install-recommends libseccomp-dev ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends libseccomp-dev; }) >&2
  fi
  # shellcheck disable=SC2086
  "$cc" $flags -o "$out.tmp" $srcs -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
  mv "$out.tmp" "$out"
fi
if newer "$probe" "$here/tests/_probe.c"; then
  # Static, so it runs in any job's view (and in the test VM).
  # shellcheck disable=SC2086
  "$cc" $flags -static -o "$probe.tmp" "$here/tests/_probe.c"
  mv "$probe.tmp" "$probe"
fi
