#!/usr/bin/env bash
# Installs every Debian 12 package Weft needs to build, test and run. Idempotent: packages that are
# already installed are skipped, and apt is not touched at all when nothing is missing.
# Run as root (or with sudo) on Debian 12 (bookworm).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev          # ASan/UBSan build and libFuzzer targets
  clang-format clang-tidy
  # libraries (see shared/DEPENDENCIES.md)
  libyaml-cpp-dev                   # plant.yaml, edge.yaml
  libcli11-dev                      # command lines
  libspdlog-dev libfmt-dev          # logging, formatting
  nlohmann-json3-dev                # JSON output and APIs
  libprotobuf-dev protobuf-compiler # Sparkplug B and uplink payloads
  mosquitto mosquitto-clients libmosquitto-dev   # MQTT broker (tests, demo) and client
  libmodbus-dev                     # Modbus TCP (simulated PLCs, edge polling)
  libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev libbrotli-dev  # Parquet codecs
  libcurl4-openssl-dev libssl-dev   # S3 object store (SigV4), TLS
  curl openssl                      # process tests: /metrics and /health; test certificates
  python3                           # process tests and benches: result checks, generators
  tzdata                            # shift calendars in the sites' time zones (kpi)
  libxgboost-dev                    # edge inference, mlops training (XGBoost C API)
  libeigen3-dev                     # mlops: twin calibration (least squares)
  libcpp-httplib-dev                # /metrics and health endpoints, the core's API
  libsimdjson-dev                   # JSON telemetry ingest on the edge
  libsqlite3-dev                    # registries
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium                          # the dashboard's browser test (driven by playwright-core)
)

# Node.js runs the independent checkers (DuckDB, hyparquet) and s3rver in tests. A Node.js that
# is already installed (e.g. from NodeSource, which bundles npm) is used as it is.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

install_npm() {
  # Pinned by each folder's package-lock.json; a folder whose node_modules is newer than its lock
  # is skipped. tests/interop: the interop checkers; web: the dashboard's build (Vite, uPlot);
  # tests/dashboard: playwright-core (it drives Debian's chromium; no browser is downloaded).
  local root dir
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for dir in "$root/tests/interop" "$root/web" "$root/tests/dashboard"; do
    if [[ -f "$dir/node_modules/.package-lock.json" && \
          "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
      continue
    fi
    echo "setup: npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  done
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} Debian packages present"
  install_npm
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (or: sudo $0) to install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_npm
echo "setup: done"
