"""PySide6 + pyqtgraph user interface. Renders what etl_desk.core computes."""
