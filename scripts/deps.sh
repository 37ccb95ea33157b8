#!/usr/bin/env bash
# System packages preflight needs: to build llama.cpp (cmake, clang, libclang for bindgen), for
# the agent sandboxes (bubblewrap; iproute2 brings a sandbox's loopback up; util-linux's
# unshare, nsenter, prlimit and setpriv), the programs the shipped agent tasks use, and a
# headless browser for the HTML report's and the viewer's tests (Debian's chromium and
# chromedriver).
# Installs them with apt-get when missing; does nothing when they are there.
set -euo pipefail
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v clang >/dev/null 2>&1 || missing+=(clang)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || missing+=(libclang-dev)
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
[ -x /usr/sbin/ip ] || missing+=(iproute2)
for p in nsenter unshare prlimit setpriv; do [ -x /usr/bin/$p ] || { missing+=(util-linux); break; }; done
# What the shipped agent tasks use inside their sandboxes (`requires` in tasks/*/*/task.toml):
# the system's own python3 (the sandbox sees /usr only), a C toolchain, binutils, openssl,
# sqlite3, xxd.
[ -x /usr/bin/python3 ] || missing+=(python3)
[ -x /usr/bin/gcc ] || missing+=(gcc libc6-dev)
[ -x /usr/bin/make ] || missing+=(make)
[ -x /usr/bin/objdump ] || missing+=(binutils)
[ -x /usr/bin/openssl ] || missing+=(openssl)
[ -x /usr/bin/sqlite3 ] || missing+=(sqlite3)
[ -x /usr/bin/xxd ] || missing+=(xxd)
# The HTML report's and the viewer's tests open them in a real browser, the viewer's driven
# through WebDriver (chromedriver).
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
