"""Related Reading: the library behind the related-reading widget.

Importing this package is cheap: no Flask, no torch, no FAISS; heavy parts load when used.
"""

__version__ = "0.1.0"
