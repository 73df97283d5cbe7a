"""Ranking: which articles go in a page's related list, and in what order.

Where to change what:

- ``policy.py``: the weights and thresholds (``RankingPolicy``); ``saved.py``: the one editors
  saved last, which every ranking uses.
- ``formulas.py``: every formula, once: the candidate filter, the score blend (text, tags,
  author), recency, and the duplicate rules. Both ranking paths read them through ``pairs.py``.
- ``stages.py``: one page's pipeline (filter, score, MMR diversity, pins and blocks, fallback),
  with the reasons and signals editors see; the reference the nightly build must match.
- ``batch.py``: the same filter and score over every page of a build at once, to hand
  ``stages.rank`` only the candidates it can place.
- ``lists.py``: ranking one page live or every page of a build from a ``RankingContext``
  (``context.py``), and storing the lists.
- ``space.py``: where candidates come from (the serving FAISS build plus newer articles);
  ``smoothing.py``: the neighbourhood smoothing of article vectors a build applies;
  ``lexical.py`` and ``names.py``: the TF-IDF signal (words and proper names).
"""
