"""Typed user settings, stored as JSON in the user's config directory."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from workbench import paths

SCHEMA_VERSION = 1
MAX_RECENT = 10


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    coder_name: str = ""
    recent_projects: list[str] = field(default_factory=list)
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()

    def remember_project(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent_projects = [path] + [p for p in self.recent_projects if p != path]
        del self.recent_projects[MAX_RECENT:]


def settings_path() -> Path:
    return paths.user_config_dir() / "settings.json"


def load(path: Path | None = None) -> Settings:
    """Read settings; a missing or damaged file gives defaults rather than an error,
    because settings are a convenience and must never stop the app from starting."""
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    known = {f.name: f for f in fields(Settings)}
    values = {}
    for key, value in raw.items():
        if key in known and isinstance(value, type(getattr(Settings(), key))):
            values[key] = value
    settings = Settings(**values)
    settings.schema_version = SCHEMA_VERSION
    return settings


def save(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(settings), f, indent=2, ensure_ascii=False)
    os.replace(tmp, path)
