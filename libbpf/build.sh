#!/usr/bin/env bash
# Builds libbpf/out/libxdptool-bpf.so: libbpf + libelf + zlib compiled position-independent from
# Debian's source packages and linked, with our small C shim (shim.c), into ONE shared object
# that depends on nothing but glibc. The xdptool binary embeds it and dlopens it from a memfd.
#
# Why not Debian's libbpf.a? Debian's libbpf.a, libelf.a and libz.a are not built with -fPIC,
# so they cannot go into a shared object; dlopen is the only way bun:ffi loads native code.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$here/.build
out=$here/out
jobs=$(nproc)
mkdir -p "$work" "$out"

# The source packages, each fetched once: a tree that already holds a package's unpacked source
# skips it, so adding a package here fetches only that one.
sources=(libbpf elfutils zlib libpcap)
fetch_sources() {
  local pkg missing=()
  mkdir -p "$work/src"
  # Trees fetched before libpcap was added marked the first three with one file.
  [ ! -f "$work/src/.done" ] || { touch "$work/src/.libbpf.done" "$work/src/.elfutils.done" "$work/src/.zlib.done"; rm "$work/src/.done"; }
  for pkg in "${sources[@]}"; do [ -f "$work/src/.$pkg.done" ] || missing+=("$pkg"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  local d=$work/apt
  mkdir -p "$d/parts" "$d/lists/partial"
  # bookworm ships no deb-src entries; a private source list leaves the system's apt state alone.
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$d/parts/src.sources"
  local o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$d/parts" -o "Dir::State::Lists=$d/lists")
  apt-get "${o[@]}" -qq update
  # Newest first; a mirror may list a version whose files it does not hold (seen: zlib's
  # +deb12u1 in bookworm-security answered 404), so each package falls back to older versions.
  local v dsc
  for pkg in "${missing[@]}"; do
    rm -rf "$work/src/${pkg}_"* "$work/src/${pkg}-"*/
    for v in $(apt-cache "${o[@]}" showsrc "$pkg" | awk '/^Version:/ {print $2}' | sort -urV) ""; do
      [ -n "$v" ] || { echo "libbpf/build.sh: no version of the $pkg source package could be downloaded" >&2; exit 1; }
      (cd "$work/src" && apt-get "${o[@]}" -qq source --download-only "$pkg=$v" >/dev/null 2>&1) && break
      echo "libbpf/build.sh: $pkg $v could not be downloaded, trying an older version" >&2
      rm -f "$work/src/${pkg}_"*
    done
    for dsc in "$work/src/${pkg}_"*.dsc; do (cd "$work/src" && dpkg-source --no-check -x "$dsc" >/dev/null); done
    touch "$work/src/.$pkg.done"
  done
}

build_zlib() {
  [ -f "$work/zlib/libz.a" ] && return
  local s; s=$(ls -d "$work"/src/zlib-*/ | head -1)
  rm -rf "$work/zlib"; cp -r "$s" "$work/zlib"
  (cd "$work/zlib" && CFLAGS="-O2 -fPIC" ./configure --static >/dev/null && make -s -j"$jobs" libz.a >/dev/null)
}

build_libelf() {
  [ -f "$work/elfutils/libelf/libelf.a" ] && return
  local s; s=$(ls -d "$work"/src/elfutils-*/ | head -1)
  rm -rf "$work/elfutils"; cp -r "$s" "$work/elfutils"
  (cd "$work/elfutils" &&
    CFLAGS="-O2 -fPIC -Wno-error" CPPFLAGS="-I$work/zlib" LDFLAGS="-L$work/zlib" \
      ./configure --disable-debuginfod --disable-libdebuginfod --without-bzlib --without-lzma \
        --without-zstd --disable-nls >/dev/null &&
    make -s -j"$jobs" -C lib >/dev/null && make -s -j"$jobs" -C libelf libelf.a >/dev/null)
}

build_libbpf() {
  [ -f "$work/libbpf/libbpf.a" ] && return
  local s; s=$(ls -d "$work"/src/libbpf-*/ | head -1)
  mkdir -p "$work/libbpf"
  make -s -j"$jobs" -C "$s/src" BUILD_STATIC_ONLY=y OBJDIR="$work/libbpf" \
    EXTRA_CFLAGS="-fPIC -I$work/elfutils/libelf -I$work/zlib" \
    DESTDIR="$out" PREFIX= INCLUDEDIR=/include LIBDIR=/lib \
    "$work/libbpf/libbpf.a" install_headers >/dev/null
}

# libpcap for its filter compiler only (pcap_open_dead + pcap_compile): no capture back end
# (--with-pcap=null) and none of the optional ones, so it needs nothing but libc.
build_libpcap() {
  [ -f "$work/libpcap/libpcap.a" ] && return
  local s; s=$(ls -d "$work"/src/libpcap-*/ | head -1)
  rm -rf "$work/libpcap"; cp -r "$s" "$work/libpcap"
  (cd "$work/libpcap" &&
    CFLAGS="-O2 -fPIC" ./configure --with-pcap=null --disable-shared --disable-usb --disable-netmap \
      --disable-bluetooth --disable-dbus --disable-rdma --without-libnl --disable-remote \
      --without-dag --without-septel --without-snf --without-turbocap --without-dpdk >/dev/null &&
    make -s -j"$jobs" libpcap.a >/dev/null)
}

link_shim() {
  gcc -O2 -fPIC -Wall -Werror -I"$out/include" -c "$here/shim.c" -o "$work/shim.o"
  # The blacklist's bulk IPv4 loader: the program's own hash, from its header (t4bulk.c).
  gcc -O2 -fPIC -Wall -Werror -iquote "$here/../bpf/include" -c "$here/t4bulk.c" -o "$work/t4bulk.o"
  # The sampler's ring buffer into pcap/pcapng records (sampdrain.c).
  gcc -O2 -fPIC -Wall -Werror -c "$here/sampdrain.c" -o "$work/sampdrain.o"
  gcc -O2 -fPIC -Wall -Werror -c "$here/glibc-compat.c" -o "$work/glibc-compat.o"
  # --whole-archive keeps every libbpf and libpcap symbol (bun:ffi looks them up by name at run
  # time; libpcap without a capture back end is small: reading and writing savefiles, the compiler);
  # libelf and zlib are only pulled in as far as libbpf needs them.
  # --wrap: calls to glibc functions newer than the Bun runtime's glibc go to glibc-compat.c.
  gcc -shared -o "$out/libxdptool-bpf.so" -Wl,-soname,libxdptool-bpf.so "$work/shim.o" "$work/t4bulk.o" "$work/sampdrain.o" \
    "$work/glibc-compat.o" -Wl,--wrap=fstat,--wrap=fcntl64,--wrap=fmemopen \
    -Wl,--whole-archive "$work/libbpf/libbpf.a" "$work/libpcap/libpcap.a" -Wl,--no-whole-archive \
    "$work/elfutils/libelf/libelf.a" "$work/zlib/libz.a" -static-libgcc -Wl,-z,defs
  strip --strip-unneeded "$out/libxdptool-bpf.so"
  # libbpf_version_string() only knows major.minor; keep the full source version for --version.
  basename "$(ls -d "$work"/src/libbpf-*/ | head -1)" | sed 's/^libbpf-//' > "$out/libbpf.version"
  # Prove the claim: nothing but the C library (and the loader) may be needed.
  local deps; deps=$(readelf -d "$out/libxdptool-bpf.so" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  case "$deps" in
    "libc.so.6 "|"libc.so.6 ld-linux-x86-64.so.2 ") ;;
    *) echo "libbpf/build.sh: unexpected dependencies: $deps" >&2; exit 1 ;;
  esac
  # ...and no glibc symbol newer than the Bun runtime itself needs, or the binary would not start
  # where Bun does (a new one: add a wrapper to glibc-compat.c).
  local bun; bun=$(readlink -f "$here/../node_modules/.bin/bun" 2>/dev/null || command -v bun)
  local ours theirs
  ours=$(glibc_max "$out/libxdptool-bpf.so") theirs=$(glibc_max "$bun")
  [ -n "$theirs" ] || { echo "libbpf/build.sh: no GLIBC_ versions found in the Bun runtime ($bun): npm install first" >&2; exit 1; }
  if [ "$(printf '%s\n%s\n' "$ours" "$theirs" | sort -V | tail -1)" != "$theirs" ]; then
    echo "libbpf/build.sh: libxdptool-bpf.so needs GLIBC_$ours, the Bun runtime only GLIBC_$theirs:" >&2
    objdump -T "$out/libxdptool-bpf.so" | sed -n 's/.*(GLIBC_\([0-9.]*\)) *\(.*\)/\1 \2/p' | while read -r v sym; do
      [ "$(printf '%s\n%s\n' "$v" "$theirs" | sort -V | tail -1)" = "$theirs" ] || echo "  $sym@GLIBC_$v"
    done >&2
    exit 1
  fi
}

# The highest GLIBC_x.y symbol version a binary or shared object asks the dynamic loader for.
glibc_max() {
  objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1
}

fetch_sources
build_zlib
build_libelf
build_libbpf
build_libpcap
link_shim
echo "libbpf/build.sh: $(du -h "$out/libxdptool-bpf.so" | cut -f1) $out/libxdptool-bpf.so"
