"""`python -m heurist_ui`: the command line (see heurist_ui.cli)."""

import sys

from .cli import main

sys.exit(main())
