"""The ``related-reading`` command: thin argument parsing over the library.

Each subcommand returns an exit code from ``recommender.exits``; ``serve`` starts gunicorn from
import strings, so the library never imports the web app.
"""
