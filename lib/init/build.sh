#!/bin/sh
# Builds build/jw-init, the job launcher (see lib/init/jw_init.c), when its
# source is newer than the binary. Needs a C compiler (cc/gcc).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
src="$here/lib/init/jw_init.c"
out="$here/build/jw-init"
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then exit 0; fi
mkdir -p "$here/build"
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || cc=gcc
"$cc" -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
  -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
