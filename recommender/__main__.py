"""``python -m recommender`` is the ``related-reading`` command."""

from recommender.cli import main

raise SystemExit(main())
