"""The start-up baseline: a bare PySide6 + pyqtgraph + pandas window, no ETL Desk code.

Imports the same three libraries, makes a 1,000-row DataFrame, draws one bar chart of it in a
QMainWindow and prints ``first-paint-epoch=<time.time()>`` on the window's first paint, then
quits — the same protocol as ``ETL_DESK_EXIT_AFTER_FIRST_PAINT=1 etl-desk``.
"""
import sys
import time

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget


class FirstPaint(QObject):
    def __init__(self, app, win):
        super().__init__()
        self.app, self.win, self.seen = app, win, False

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if (event.type() == QEvent.Type.Paint and not self.seen
                and isinstance(obj, QWidget) and obj.window() is self.win):
            self.seen = True
            print(f"first-paint-epoch={time.time():.6f}", flush=True)
            QTimer.singleShot(0, self.app.quit)
        return False


def main() -> int:
    app = QApplication(sys.argv[:1])
    df = pd.DataFrame({"cost": np.random.default_rng(0).uniform(0.1, 2.5, 1000)})
    win = QMainWindow()
    plot = pg.PlotWidget()
    plot.addItem(pg.BarGraphItem(x0=0, y=np.arange(len(df)), height=0.8, width=df["cost"].to_numpy(),
                                 brush="#F28E2B"))
    win.setCentralWidget(plot)
    win.resize(1280, 800)
    f = FirstPaint(app, win)
    app.installEventFilter(f)
    win.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
