"""``python -m recommender`` is the ``related-reading`` command."""

from recommender.cli.main import main

raise SystemExit(main())
