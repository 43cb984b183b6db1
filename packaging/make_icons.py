"""Regenerate ETL Desk's application icons from the hand-written SVG source.

    .venv/bin/python packaging/make_icons.py

Reads ``resources/icons/etl-desk.svg`` and writes, beside it:

* ``etl-desk-<N>.png`` for N in 16, 24, 32, 48, 64, 128, 256, 512 (sizes up to 24 px drop the
  coin, group ``id="detail"``, which turns to mush that small);
* ``etl-desk.ico`` (Windows; PNG-compressed entries 16 ... 256, readable since Windows Vista);
* ``etl-desk.icns`` (macOS; PNG entries 16 ... 1024 including the @2x variants).

Rendering uses Qt's own SVG renderer (``PySide6.QtSvg``, part of PySide6-Essentials) on the
offscreen platform, so no external tool is needed; ``.ico`` and ``.icns`` are plain container
formats written here byte by byte. Output is deterministic: running it twice changes nothing.
"""
from __future__ import annotations

import os
import re
import struct
import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICON_DIR / "etl-desk.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: icns OSType -> pixel size (the @2x types hold the double-size image of their point size)
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))
SMALL = 24  # at or below this size the coin (group id="detail") is left out


def _svg_bytes(size: int) -> bytes:
    text = SVG.read_text(encoding="utf-8")
    if size <= SMALL:
        text, n = re.subn(r'<g id="detail">.*?</g>', "", text, flags=re.S)
        assert n == 1, "etl-desk.svg lost its <g id=\"detail\"> group"
    return text.encode("utf-8")


def render_png(size: int) -> bytes:
    """The icon at *size* x *size* pixels as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(_svg_bytes(size)))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {SVG} is not valid SVG")
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(p)
    p.end()
    img = img.convertToFormat(QImage.Format.Format_ARGB32)
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise SystemExit("make_icons: Qt could not encode PNG")
    buf.close()
    return bytes(ba.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding one PNG-compressed image per size."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        blobs += data
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns whose entries are PNG data (supported since OS X 10.7)."""
    body = b"".join(t.encode("ascii") + struct.pack(">I", 8 + len(pngs[s])) + pngs[s] for t, s in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - needed for QPainter
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_TYPES})
    pngs = {s: render_png(s) for s in sizes}
    written = []
    for s in PNG_SIZES:
        path = ICON_DIR / f"etl-desk-{s}.png"
        path.write_bytes(pngs[s])
        written.append(path)
    (ICON_DIR / "etl-desk.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (ICON_DIR / "etl-desk.icns").write_bytes(icns_bytes(pngs))
    written += [ICON_DIR / "etl-desk.ico", ICON_DIR / "etl-desk.icns"]
    for path in written:
        print(f"wrote {path.relative_to(ICON_DIR.parents[3])} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
