"""The catalogue: what articles exist, whether readers may see them, and editors' rules.

``articles`` validates one record, ``validation`` a batch (file import, source sync and the
webhook share it), ``storing`` upserts, ``live`` defines when a reader may see an article,
``importing`` reads files and ``sources/`` reads feeds, WordPress and sitemaps; ``curation``
holds pins, blocks and the audit log; ``items`` is what the ranker knows about an article.
"""
