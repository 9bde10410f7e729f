#!/usr/bin/env bash
# Runs the whole Lakebox test suite on this machine, first installing and
# starting whatever the tests need that is missing:
#   - Go modules (fetched by the go commands as needed)
#   - versitygw, the S3 server the S3 tests run against (go install)
#   - PostgreSQL on 127.0.0.1:5432 (started if stopped, installed with apt if absent)
# Nothing is skipped: LAKEBOX_REQUIRE_SERVICES=1 turns a missing service into
# a test failure instead of a skip.
#
# Usage: scripts/test.sh [go test flags/packages]   (default: ./...)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

export PATH="$PATH:$(go env GOPATH)/bin"
export LAKEBOX_REQUIRE_SERVICES=1

apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "apt-get not available; install $* by hand"; return 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Go modules are fetched by go vet / go test as the build needs them: an
# explicit `go mod download` would also fetch DuckDB's prebuilt libraries for
# every other platform (~700 MB).

ensure_versitygw() {
  if command -v versitygw >/dev/null || [ -n "${LAKEBOX_TEST_S3_ENDPOINT:-}" ]; then return; fi
  log "installing versitygw v1.8.0 (S3 test server; about two minutes)"
  (cd "$(mktemp -d)" && GOFLAGS= go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)
}

pg_url="${LAKEBOX_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
pg_ok() { command -v psql >/dev/null && psql "$pg_url" -qtAc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  if pg_ok; then return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql postgresql-client
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_ok && return; sleep 1; done
  # A fresh Debian cluster does not trust TCP connections: give the postgres
  # role a password and use it.
  log "setting a password for the postgres role"
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  pg_url="postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"
  export LAKEBOX_TEST_POSTGRES_URL="$pg_url"
  for _ in $(seq 1 10); do pg_ok && return; sleep 1; done
  log "PostgreSQL is still unreachable at $pg_url"; exit 1
}

ensure_tools() {
  command -v gcc >/dev/null || apt_install gcc
  command -v psql >/dev/null || apt_install postgresql-client
}

# Model serving tests: Debian's Python with sklearn/pandas/onnx/xgboost
# (installed only when an import fails) and ONNX Runtime's shared library
# from the onnxruntime-node npm package, cached outside the repository.
ensure_python_models() {
  if ! /usr/bin/python3 -c 'import sklearn, pandas, numpy, onnx, xgboost, cloudpickle' 2>/dev/null; then
    apt_install python3-sklearn python3-pandas python3-numpy python3-onnx python3-xgboost python3-cloudpickle
  fi
}

# ONNX Runtime 1.30 is the library onnxruntime_go v1.27.0 was validated with.
ORT_VERSION=1.30.0

ensure_onnxruntime() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/lakebox/onnxruntime-$ORT_VERSION"
  local lib="$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
  if [ ! -f "$lib" ]; then
    command -v npm >/dev/null || apt_install npm
    log "npm install onnxruntime-node (libonnxruntime.so.1) into $dir"
    mkdir -p "$dir" && (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@"$ORT_VERSION" >/dev/null)
  fi
  export LAKEBOX_ONNXRUNTIME_LIB="${LAKEBOX_ONNXRUNTIME_LIB:-$lib}"
}

# MLflow conformance test: the npm "mlflow" client pinned by
# e2e/mlflow-js/package-lock.json (npm ci only when it is not installed).
# The MLflow sklearn end-to-end test uses the Python packages above.
ensure_mlflow_js() {
  if [ ! -d e2e/mlflow-js/node_modules/mlflow ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    log "npm ci in e2e/mlflow-js (the npm mlflow client)"
    (cd e2e/mlflow-js && npm ci --no-audit --no-fund >/dev/null)
  fi
}

ensure_tools
ensure_python_models
ensure_onnxruntime
ensure_mlflow_js
ensure_postgres
ensure_versitygw

if [ -z "${LAKEBOX_SHARED:-}" ] && [ ! -d ../shared/delta-compat ]; then
  log "note: ../shared/delta-compat is absent, so the Delta compatibility corpus tests will skip"
fi

log "go vet"
go vet ./...
log "go test"
if [ $# -eq 0 ]; then set -- ./...; fi
go test -count=1 -timeout 60m "$@"
