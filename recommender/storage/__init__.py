"""Storage: the SQL schema, engines and sessions, the Alembic runner and the writer locks.

The lowest layer of the library: every table lives in ``schema`` because the tables span every
other package (articles, embeddings, lists, builds, accounts); the packages above hold the logic.
"""

# The accounts' and feedback (#16) tables live in their own modules on the same Base: importing it here puts
# them in Base.metadata whichever model module is imported first.
from recommender.storage import account_tables as account_tables
from recommender.storage import feedback_tables as feedback_tables
