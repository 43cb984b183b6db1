"""PyInstaller entry script: the bundled ``etl-desk`` executables run the normal command line."""
import multiprocessing
import sys

from etl_desk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # no-op unless a worker process is ever spawned (Windows/macOS)
    sys.exit(main())
