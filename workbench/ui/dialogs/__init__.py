"""Dialogs: small, self-contained windows the views and actions open."""
