#!/usr/bin/env bash
# build-base.sh COMMIT [DIR] — build xdptool as of COMMIT into DIR (default /tmp/xdptool-base-COMMIT)
# for a same-run A/B: XDPTOOL_BASE=DIR/dist/xdptool bun bench/flood.bench.ts. Reuses this tree's
# compiled libraries and node_modules (run `bash test/setup.sh` first); prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:?usage: build-base.sh COMMIT [DIR]}"
dir="${2:-/tmp/xdptool-base-$commit}"
rm -rf "$dir" && mkdir -p "$dir"
git -C "$root" archive "$commit" | tar -x -C "$dir"
ln -sfn "$root/node_modules" "$dir/node_modules"
mkdir -p "$dir/libbpf"
if git -C "$root" diff --quiet "$commit" -- libbpf/; then
  ln -sfn "$root/libbpf/out" "$dir/libbpf/out" # the same shim: this tree's will do
else
  # The commit's own shim sources (its C functions may differ from ours), built by this tree's
  # recipe against this tree's compiled libraries: only the shim's few files are compiled. A
  # commit whose sources this recipe cannot build gets this tree's shim, and a warning.
  mkdir -p "$dir/libbpf/.build" "$dir/libbpf/out"
  for d in "$root"/libbpf/.build/*/; do ln -sfn "${d%/}" "$dir/libbpf/.build/$(basename "$d")"; done
  ln -sfn "$root/libbpf/out/include" "$dir/libbpf/out/include"
  cp "$root/libbpf/build.sh" "$dir/libbpf/build.sh"
  if ! bash "$dir/libbpf/build.sh" >&2; then
    echo "build-base.sh: $commit's shim does not build with this tree's recipe; using this tree's shim" >&2
    rm -rf "$dir/libbpf/out" && ln -sfn "$root/libbpf/out" "$dir/libbpf/out"
  fi
fi
make -s -C "$dir/bpf" >&2
(cd "$dir" && PATH="$root/node_modules/.bin:$PATH" bun run build:bin >&2)
echo "$dir/dist/xdptool"
