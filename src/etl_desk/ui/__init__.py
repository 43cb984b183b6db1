"""The window (PySide6 + pyqtgraph): renders what :mod:`etl_desk.core` computes."""
