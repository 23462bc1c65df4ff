"""``python -m hyperdeme``: the ``hyperdeme`` command."""

import sys

from ._cli import main

sys.exit(main())
