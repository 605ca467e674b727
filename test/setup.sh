#!/usr/bin/env bash
# Installs everything xdptool needs on a fresh Debian 12 machine (as root) and builds dist/xdptool.
# Safe to run again: each step skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(clang llvm make gcc libc6-dev dpkg-dev gawk m4 flex bison pkg-config
      iproute2 ethtool bpftool xdp-tools tcpdump tshark wireshark-common libpcap0.8 bind9-dnsutils
      iputils-ping nsd dnsdist nftables util-linux procps curl jq man-db groff-base openssl prometheus strace)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# An old C library to start the binary on (test/onebinary.test.ts); that test fails without it.
bash test/old-glibc.sh || echo "setup: Debian 11's libc6 could not be fetched: test/onebinary.test.ts will fail"

if [ ! -x node_modules/.bin/bun ]; then
  echo "setup: installing Bun and the JavaScript dependencies from npm"
  npm install --no-audit --no-fund --loglevel=error
fi
export PATH="$PWD/node_modules/.bin:$PATH"

echo "setup: building libbpf (PIC, from Debian sources), the BPF programs and dist/xdptool"
bun run build
ls -la dist/xdptool
