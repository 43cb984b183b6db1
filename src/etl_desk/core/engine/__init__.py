"""Big histories: one engine layer (DuckDB embedded by default, the same queries on Spark).

See :mod:`.engine` for the object the window and the command line use,
:mod:`.rules` for filters and selections as rules, :mod:`.index` for the index
built on open, and :mod:`.dataset` for the chunked generator of big datasets.
Nothing here imports Qt.
"""
from .engine import Engine, EngineSettings, Envelope, Page, Scores
from .rules import Rule

__all__ = ["Engine", "EngineSettings", "Envelope", "Page", "Scores", "Rule"]
