"""The editors' blueprint and the two checks every one of its requests passes first.

1. Signed in: nothing under ``/editor`` but the sign-in page answers an anonymous visitor (pages
   redirect to sign-in); the server-side session and its account are re-read on every request,
   so signing out, a password change or disabling the account takes effect at once.
2. CSRF: every POST carries the session's token in a hidden ``csrf_token`` field (400 if not).
   SameSite=Lax already keeps the cookie off cross-site POSTs; the token is the second lock.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, g, redirect, request, session, url_for

from recommender.accounts.sessions import session_user
from recommender.ranking import saved
from web import db
from web.editor.present import SHORT, SIGNALS

bp = Blueprint("editor", __name__, url_prefix="/editor")
PUBLIC_ENDPOINTS = frozenset({"editor.sign_in"})
# Drafts pasted into the preview can be long articles; readers' endpoints keep the app's 64 KiB.
MAX_EDITOR_BODY = 2 * 1024 * 1024


def csrf_token() -> str:
    """This session's token (made on first use), for hidden form fields."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(presented: str | None) -> bool:
    expected = session.get("csrf")
    return (isinstance(expected, str) and bool(expected) and isinstance(presented, str)
            and hmac.compare_digest(presented.encode(), expected.encode()))


def current_editor() -> str | None:
    """The signed-in editor's name, or None (unknown, disabled or signed out)."""
    if "editor" in g:
        return g.editor  # type: ignore[no-any-return]
    # The cookie's session id must name a live row (signing out deletes it), not just a user.
    user = session_user(db.get_session(), session.get("sid"))
    g.editor = user.name if user is not None and not user.disabled else None
    return g.editor  # type: ignore[no-any-return]


def safe_next(target: str | None) -> str:
    """Only a path inside /editor may be a post-sign-in destination (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/editor") \
                and "\\" not in target:
            return target
    return url_for("editor.index")


@bp.before_request
def _guard() -> Response | None:
    request.max_content_length = request.max_form_memory_size = MAX_EDITOR_BODY
    if request.endpoint not in PUBLIC_ENDPOINTS and current_editor() is None:
        session.pop("sid", None)
        nxt = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("editor.sign_in", next=nxt), 303)  # type: ignore[return-value]
    if request.method == "POST" and not csrf_ok(request.form.get("csrf_token")):
        abort(400, "The form had expired or did not come from this site. Go back, reload the "
                   "page and try again.")
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    # Editors' pages show unpublished drafts and curation: never cached by browsers or proxies.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def policy_problem() -> str:
    """Why the newest saved ranking policy is not in force ("" when it is or none was saved).

    A template function, so only the pages that rank (policy, article) pay for the query.
    """
    return saved.policy_status(db.get_session(), db.resources().settings.ranking).problem


@bp.context_processor
def _template_globals() -> dict[str, object]:
    return {"csrf_token": csrf_token, "editor_name": current_editor(), "signals": SIGNALS,
            "short_labels": SHORT, "policy_problem": policy_problem}
