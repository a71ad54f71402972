"""`python -m promptls` is the `promptls` command (used by editors that launch an interpreter)."""

import sys

from .cli import main

sys.exit(main())
