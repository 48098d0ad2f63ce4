"""``python -m benchmarks [--quick | --full] [--update-docs]``; see :mod:`benchmarks.runner`."""

import sys

from .runner import main

sys.exit(main())
