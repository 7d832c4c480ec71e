#!/usr/bin/env bash
# Installs every Debian 12 package that preserve's build, tests and interop checks need.
# Idempotent: packages already present are left alone. Run as root or with sudo available.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libssl-dev openssl
  librocksdb-dev
  libarchive-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libgtest-dev libgmock-dev
  default-jre-headless default-jdk-headless libbcpkix-java libbcprov-java
  zip unzip curl
  # /usr/bin/time: the peak RSS of the benchmarks' command-line phases (bench/*.sh).
  time
  libqpdf-dev libxml2-dev
  libicu-dev
  libsodium-dev
  # tcmalloc, the programs' allocator (CMakeLists.txt: preserve_allocator).
  libgoogle-perftools-dev
  poppler-utils libnss3-tools qpdf
  libcurl4-openssl-dev
  # The web application's browser tests: Debian's Chromium and its driver, and Selenium for
  # Debian's own python3 (/usr/bin/python3).
  chromium chromium-driver python3-selenium
  # The web application's PDF reports (web/src/report_pdf.cc): drawn with pango and cairo, in
  # DejaVu Sans, which has every Vietnamese letter.
  libpango1.0-dev libcairo2-dev fonts-dejavu-core
  # A one-node Ceph with a RADOS Gateway for the S3 tests (scripts/ceph-dev.sh), and the
  # AWS CLI that drives it from outside.
  ceph-mon ceph-osd radosgw ceph-common awscli
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
