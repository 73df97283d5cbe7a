"""The live path: ranking one page now, for editors, drafts and publishes between builds.

``recommender`` is the facade (explain, preview, refresh) that loads the encoder and the
serving build lazily; ``drafts`` validates a draft; ``publishing`` is the webhook's library side.
Readers never come here: their path is ``recommender.readers`` (SQL only).
"""
