#!/usr/bin/env bash
# Fetches Debian 11's C library (glibc 2.31, the one Ubuntu 20.04 also ships) into test/.glibc-2.31/
# so that test/onebinary.test.ts can start dist/xdptool on it. Skips when it is already there.
# A private apt list and cache: the system's apt state is untouched.
set -euo pipefail
cd "$(dirname "$0")"
dest=.glibc-2.31
[ -f "$dest/lib/x86_64-linux-gnu/libc.so.6" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial"
o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/parts" -o "Dir::State::Lists=$work/lists"
   -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
# bullseye leaves the main mirror for archive.debian.org some day; try both.
for uri in http://deb.debian.org/debian http://archive.debian.org/debian; do
  printf 'Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > "$work/parts/bullseye.sources"
  apt-get "${o[@]}" -qq update >/dev/null 2>&1 || continue
  v=$(apt-cache "${o[@]}" madison libc6 | awk '/bullseye/ {print $3; exit}')
  [ -n "$v" ] && (cd "$work" && apt-get "${o[@]}" -qq download "libc6=$v" >/dev/null 2>&1) && break
done
deb=$(ls "$work"/libc6_*.deb 2>/dev/null) || { echo "test/old-glibc.sh: could not download Debian 11's libc6" >&2; exit 1; }
rm -rf "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "test/old-glibc.sh: $(basename "$deb") in test/$dest"
