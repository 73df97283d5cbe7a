"""Embeddings: the encoder behind a one-method interface, the text embedded, the vector cache.

The cache (``cache``) keys each vector by model and content hash, which is what makes the
nightly job incremental and a model change a full re-embed rather than a mixed index.
"""
