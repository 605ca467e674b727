#!/usr/bin/env bash
# build-base.sh COMMIT [DIR] — build xdptool as of COMMIT into DIR (default /tmp/xdptool-base-COMMIT)
# for a same-run A/B: XDPTOOL_BASE=DIR/dist/xdptool bun bench/flood.bench.ts. Reuses this tree's
# libbpf build and node_modules (run `bash test/setup.sh` first); prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:?usage: build-base.sh COMMIT [DIR]}"
dir="${2:-/tmp/xdptool-base-$commit}"
rm -rf "$dir" && mkdir -p "$dir"
git -C "$root" archive "$commit" | tar -x -C "$dir"
mkdir -p "$dir/libbpf" && ln -sfn "$root/libbpf/out" "$dir/libbpf/out"
ln -sfn "$root/node_modules" "$dir/node_modules"
make -s -C "$dir/bpf" >&2
(cd "$dir" && PATH="$root/node_modules/.bin:$PATH" bun run build:bin >&2)
echo "$dir/dist/xdptool"
