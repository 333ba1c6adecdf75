#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium, for the browser test of the activation
# page (infra/localcloud/browser_test.go, driven with chromedp). Installs the `chromium` package with
# apt when it is missing: as root, or through sudo when not root and sudo exists.
#
# Idempotent: prints one line, "present" or "installed", and exits 0; exits non-zero with a
# message saying why when Chromium cannot be installed (then install it by hand with
# `apt-get install -y chromium`, or run the tests without CI=true: the browser test is skipped).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

say() { printf '%-18s %s\n' chromium "$1"; }
fail() { printf 'chromium: %s\n' "$1" >&2; exit 1; }

version() { "$CHROMIUM" --version 2>/dev/null | head -n1 || true; }

if [[ -x "$CHROMIUM" ]]; then
  say "present ($(version))"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
  fail "$CHROMIUM is missing and apt-get is not available: install Chromium with your package manager"

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  fail "$CHROMIUM is missing; installing it needs root (not root, no sudo): run 'apt-get install -y chromium' as root"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get update failed (are the Debian package mirrors reachable?)"
fi
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get install chromium failed"
fi
[[ -x "$CHROMIUM" ]] || fail "apt-get installed chromium, but $CHROMIUM is still missing"
say "installed ($(version))"
