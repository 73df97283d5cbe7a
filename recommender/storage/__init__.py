"""Storage: the SQL schema, engines and sessions, the Alembic runner and the writer locks.

The lowest layer of the library: every table lives in ``schema`` because the tables span every
other package (articles, embeddings, lists, builds, accounts); the packages above hold the logic.
"""
