"""Readers' feedback: the widget's impressions and clicks, their rollup and statistics.

Nothing here identifies a reader: an event names the page, the teasers and their positions, the
ranking arm and a random token the widget draws for one view of one box (so a replayed batch
counts once). The web layer adds the rest of the privacy rules (DNT, GPC, crawlers, rate limit).
"""
