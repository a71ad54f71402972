"""`python -m promptls` is the `promptls` command (used by editors that launch an interpreter)."""

from .safepath import drop_cwd

drop_cwd()  # before anything else is imported: `-m` put the current folder (maybe a checkout) first

import sys  # noqa: E402

from .cli import main  # noqa: E402

sys.exit(main())
