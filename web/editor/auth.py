"""Signing in and out.

Failures are counted per (name, address) in the database (``recommender.accounts.users``), so the limit
holds across gunicorn workers; a locked-out pair is refused before its password is even checked,
and each attempt is counted before its check (``users.sign_in``), so parallel guesses cannot
overrun the limit.
The session is cleared on sign-in, so a token planted before sign-in is worthless after it.
"""

from __future__ import annotations

from flask import Response, redirect, render_template, request, session, url_for

from recommender.accounts import sessions, users
from web import db
from web.editor.guard import bp, csrf_token, current_editor, safe_next

LOCKED_OUT = (f"Too many failed sign-ins for this name from your address. Wait "
              f"{int(users.FAILURE_WINDOW.total_seconds() // 60)} minutes and try again.")


def _form(message: str = "", status: int = 200, name: str = "") -> tuple[str, int]:
    return render_template("editor/sign_in.html", message=message, name=name,
                           next=request.values.get("next", "")), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    """The sign-in form, and checking it."""
    if request.method == "GET":
        if current_editor() is not None:
            return redirect(safe_next(request.args.get("next")))  # type: ignore[return-value]
        csrf_token()
        return _form()
    name = request.form.get("name", "").strip()[:255]
    password = request.form.get("password", "")[:1024]
    address = request.remote_addr or "unknown"
    dbs = db.get_session()
    try:
        user = users.sign_in(dbs, name, password, address)
    except users.LockedOut:
        return _form(LOCKED_OUT, 429, name)
    if user is None:
        return _form("That name and password do not match an editor account.", 401, name)
    token = sessions.start_session(dbs, user)
    dbs.commit()
    session.clear()
    session.permanent = True
    session["sid"] = token
    csrf_token()
    return redirect(safe_next(request.form.get("next")), 303)  # type: ignore[return-value]


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session on the server too: a copy of the cookie stops working."""
    dbs = db.get_session()
    sessions.end_session(dbs, session.get("sid"))
    dbs.commit()
    session.clear()
    return redirect(url_for("editor.sign_in"), 303)  # type: ignore[return-value]
