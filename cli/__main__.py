"""`python -m cli ...`: the same as `fila ...`."""

import sys

from cli import main

sys.exit(main())
