"""The Qt front end: windows, views and Qt item models. The only package that imports
PySide6; everything it shows comes from `workbench.services` as plain data."""
