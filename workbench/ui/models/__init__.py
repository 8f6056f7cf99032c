"""Qt item models filled from `workbench.services` plain data."""
