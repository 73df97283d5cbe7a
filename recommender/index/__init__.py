"""Vector indexes and the build store.

``vectors`` is the one vector-index interface (FAISS behind it, in ``faiss_backend``: nothing
outside this package touches a FAISS object); ``builds`` writes, verifies, flips, loads and prunes
build directories; ``loaded`` and ``cache`` serve them. This package imports no ranking code:
ranking searches the index, so the other direction would be a cycle.
"""
