#!/usr/bin/env bash
# Set up ETL Desk on a fresh machine: the system libraries Qt needs (Debian/Ubuntu,
# when run as root or with sudo), a virtual environment in .venv, and the package.
#   bash scripts/bootstrap.sh          # the app
#   bash scripts/bootstrap.sh --test   # the app plus the test tools (pytest, pytest-qt, hypothesis)
#                                       # and the tools the tests use (LibreOffice Calc, Xvfb, and for the
#                                       # engine's Spark equality tests a Java 17 runtime and the [spark] extra)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

QT_LIBS="libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1
libxkbcommon-x11-0 libx11-xcb1 fonts-dejavu-core"
TEST_TOOLS="xvfb xauth libreoffice-calc-nogui openjdk-17-jre-headless"

if command -v apt-get >/dev/null 2>&1; then
  pkgs="$QT_LIBS"
  [ "$want_test" = 1 ] && pkgs="$pkgs $TEST_TOOLS"
  missing=""
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" != 0 ] && SUDO="sudo"
    echo "Installing system packages:$missing"
    $SUDO apt-get update -qq
    # slim Debian images lack this folder, which the JRE's post-install step writes to
    case "$missing" in *openjdk*) $SUDO mkdir -p /usr/share/man/man1 ;; esac
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extra=""
# [spark]: pyspark (~450 MB, built once into pip's cache) for the Spark equality tests
[ "$want_test" = 1 ] && extra="[test,spark]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
.venv/bin/python -c "import etl_desk, PySide6, pyqtgraph, pandas; print('ETL Desk', etl_desk.__version__, 'ready')"
