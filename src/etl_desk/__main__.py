import sys

from etl_desk.cli import main

sys.exit(main())
