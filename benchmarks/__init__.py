"""ETL Desk's performance suite: ``python -m benchmarks [name ...]``.

Each ``benchmarks/bench_<name>.py`` exposes ``run() -> list[dict]``; every dict
is one measured row (build it with :func:`benchmarks._util.row`). The harness
(:mod:`benchmarks.__main__`) runs the files, prints one table and exits with
status 1 when a row misses its goal. Benchmarks are not tests: nothing under
``tests/`` asserts timings.
"""
