"""ETL Desk's data files: icons, the solutions catalogue with its default assumptions, the pipeline catalogue,
the run-state table and the architecture diagrams.

A package only so that ``importlib.resources.files("etl_desk.resources")`` finds the files wherever ETL Desk
is installed (source checkout, wheel, bundle); pyproject.toml maps this folder to ``etl_desk.resources``.
"""
