"""Where things live: platformdirs locations, and resources/migrations/corpus whether
installed from a wheel (inside the package) or run from a checkout (top level)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "workbench"
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _bundled(name: str) -> Path:
    # A wheel force-includes top-level folders as workbench/_<name>; a checkout
    # (or an editable install) has them beside the package.
    inside = _PACKAGE / f"_{name}"
    return inside if inside.is_dir() else _CHECKOUT / name


def migrations_dir() -> Path:
    return _bundled("migrations")


def resources_dir() -> Path:
    return _bundled("resources")


def corpus_dir() -> Path:
    return _bundled("corpus")


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def sample_project_path() -> Path:
    return user_data_dir() / "sample.wbp"
