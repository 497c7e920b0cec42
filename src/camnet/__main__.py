"""Allow ``python -m camnet``."""

from camnet.cli import main

raise SystemExit(main())
