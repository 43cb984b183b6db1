#!/usr/bin/env bash
# Build the one-folder ETL Desk bundle with PyInstaller: dist/etl-desk/ (plus "ETL Desk.app" on macOS).
#   bash packaging/build.sh                 # uses .venv (creates it with scripts/bootstrap.sh if missing)
#   PYTHON=/path/to/venv/bin/python bash packaging/build.sh    # any venv with etl-desk installed
# PyInstaller is installed into that venv (pinned below); it never goes into the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER_SPEC="pyinstaller==6.22.*"
PY="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
  echo "build: $PY not found; setting up .venv with scripts/bootstrap.sh"
  bash scripts/bootstrap.sh
  PY=.venv/bin/python
fi
if ! "$PY" -c "import PyInstaller, sys; sys.exit(0 if PyInstaller.__version__.startswith('6.22') else 1)" 2>/dev/null; then
  echo "build: installing $PYINSTALLER_SPEC"
  "$PY" -m pip install -q --disable-pip-version-check "$PYINSTALLER_SPEC"
fi
# regenerate icons only when asked (they are committed): MAKE_ICONS=1 bash packaging/build.sh
[ "${MAKE_ICONS:-0}" = 1 ] && "$PY" packaging/make_icons.py

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level "${PYI_LOG_LEVEL:-WARN}" \
  --distpath dist --workpath build/pyinstaller packaging/etl-desk.spec
end=$(date +%s)

out=dist/etl-desk
[ -x "$out/etl-desk" ] || [ -f "$out/etl-desk.exe" ] || { echo "build: no executable in $out" >&2; exit 1; }
size=$(du -sh "$out" | cut -f1)
echo "build: $out ($size) in $((end - start)) s with PyInstaller $("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)')"
