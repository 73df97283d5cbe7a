"""Accounts: editors (passwords, the sign-in limit) and the API keys of the publish webhook."""
