"""``python -m steward.demo`` (``make demo``)."""

from __future__ import annotations

import sys

from steward.demo import main

sys.exit(main())
