"""Command-line subcommands. Each module has add_parser(subparsers) and run(args) -> int.

They use etl_desk.core only and never import Qt.
"""
