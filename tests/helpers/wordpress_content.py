"""What the test WordPress sites contain: topical clusters and every case the importers must handle.

The main site has three clusters of published posts (enough for two REST pages of 100), posts in
every editorial status, a password-protected post, a static front page and an "about" page,
HTML with entities and shortcodes, authors whose names hold "&" and a comma, featured images and
a post with a Yoast primary category. The second site reuses post ids of the first on purpose.
Keys name the posts so tests can find them (``site.id("protected")``).
"""

from __future__ import annotations

from typing import Any

CLUSTERS = {
    "Climate": ("glacier", "heatwave", "carbon emissions", "sea level", "drought", "wildfire"),
    "Football": ("striker", "penalty", "league table", "transfer window", "goalkeeper", "derby"),
    "Cooking": ("sourdough", "risotto", "braised lamb", "spice market", "pastry", "fermentation"),
}
PER_CLUSTER = 40
USERS = [{"login": "duo", "display_name": "Smith & Jones"},
         {"login": "comma", "display_name": "Doe, Jane"}]


def _paragraphs(topic: str, words: tuple[str, ...], n: int) -> str:
    a, b, c = words[n % 6], words[(n + 2) % 6], words[(n + 4) % 6]
    return (f"<p>Reporters on the {topic.lower()} desk followed the {a} story for weeks. "
            f"Experts linked the {a} to the {b} and warned that the {c} would follow.</p>\n"
            f"<p>Readers asked what the {b} means for them &amp; their families; the answer "
            f"depends on the {c}, local officials said &#8220;this season&#8221;.</p>")


def _cluster_posts() -> list[dict[str, Any]]:
    posts = []
    for topic, words in CLUSTERS.items():
        for n in range(PER_CLUSTER):
            posts.append({"key": f"{topic.lower()}-{n}", "title": f"{topic} report {n}: the "
                          f"{words[n % 6]} &amp; the {words[(n + 1) % 6]}",
                          "content": _paragraphs(topic, words, n), "status": "publish",
                          "categories": [topic], "tags": [words[n % 6], words[(n + 3) % 6]],
                          "days_ago": 200 - n - 3 * len(posts) % 7, "image": n % 10 == 0})
    return posts


def _special_posts() -> list[dict[str, Any]]:
    body = _paragraphs("Climate", CLUSTERS["Climate"], 1)
    special: list[dict[str, Any]] = [
        {"key": "draft", "title": "Draft about the glacier", "status": "draft"},
        {"key": "pending", "title": "Pending piece on the heatwave", "status": "pending"},
        {"key": "future", "title": "Scheduled drought explainer", "status": "future",
         "days_ago": -3},
        {"key": "private", "title": "Private memo on carbon", "status": "private"},
        {"key": "trashed", "title": "Trashed wildfire story", "status": "trash"},
        {"key": "protected", "title": "Members only: sea level secrets", "status": "publish",
         "password": "letmein"},
        {"key": "authors-duo", "title": "Two authors, one byline", "status": "publish",
         "author": "duo"},
        {"key": "authors-comma", "title": "A byline with a comma", "status": "publish",
         "author": "comma"},
        {"key": "primary", "title": "Glacier football match in the Alps", "status": "publish",
         "categories": ["Climate", "Football"], "primary": "Football"},
        {"key": "shortcodes", "title": "Shortcodes left behind", "status": "publish",
         "content": '[vc_row][vc_column]<p>The striker scored twice in the derby. The crowd sang '
                    'until midnight.</p>[/vc_column][/vc_row]\n[caption id="a1" width="300"]'
                    '<img src="x.png" alt="" /> A caption[/caption]'},
        {"key": "long-excerpt", "title": "An automatic excerpt", "status": "publish",
         "content": "<p>" + " ".join(["The glacier retreated another hundred metres this summer, "
                                      "scientists measured."] * 12) + "</p>"},
        {"key": "front", "title": "Welcome", "status": "publish", "type": "page",
         "content": "<p>Welcome to the Main Street Gazette, your local paper.</p>"},
        {"key": "about", "title": "About us", "status": "publish", "type": "page",
         "content": "<p>We are a small newsroom. Contact us by mail.</p>"},
    ]
    for post in special:
        post.setdefault("content", body)
        post.setdefault("categories", ["Climate"])
        post.setdefault("days_ago", 5)
    return special


def main_site_spec() -> dict[str, Any]:
    return {"users": USERS, "categories": [*CLUSTERS, "Uncategorized Extra"],
            "posts": _cluster_posts() + _special_posts(), "front_page": "front"}


def second_site_spec() -> dict[str, Any]:
    """A few posts whose WordPress ids collide with the main site's first ids."""
    posts = [{"key": f"second-{n}", "title": f"Second site story {n} about sourdough",
              "content": _paragraphs("Cooking", CLUSTERS["Cooking"], n), "status": "publish",
              "categories": ["Cooking"], "tags": ["sourdough"], "days_ago": 10 - n}
             for n in range(5)]
    posts.append({"key": "second-draft", "title": "Second site draft", "status": "draft",
                  "content": "<p>Not yet.</p>", "categories": ["Cooking"], "days_ago": 1})
    return {"users": [], "categories": ["Cooking"], "posts": posts}
