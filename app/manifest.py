"""Build the Teams app package: manifest.json with the bot id filled in, plus the two icons, in one zip.

Why here: the manifest is validated against Microsoft's official v1.25 schema (the newest GA) before it is zipped,
so that a package that Teams would refuse at sideloading is refused on our side with a readable list
of problems. The schema is kept as data in ``../shared/schemas`` (or ``$CPC_SCHEMAS_DIR``).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

# jsonschema ships no type information (no py.typed); the two names used here are checked by tests.
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = REPO_ROOT / "manifest"
SCHEMA_FILE = "teams-manifest-v1.25.schema.json"
SCHEMAS_ENV = "CPC_SCHEMAS_DIR"
PLACEHOLDER = "{{BOT_ID}}"
PACKAGE_FILES = ("manifest.json", "color.png", "outline.png")
ICON_SIZES = {"color.png": (192, 192), "outline.png": (32, 32)}

_PLACEHOLDER_PATTERN = re.compile(r"\{\{[A-Za-z_]+\}\}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Fixed timestamp inside the zip, so that building twice from the same inputs gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ManifestInvalid(ValueError):
    """The manifest does not validate against the Teams schema; ``problems`` lists every error."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"the Teams manifest is invalid against schema v1.25: {shown}")
        self.problems = problems


def schemas_dir() -> Path:
    """Where the shared schemas live: ``$CPC_SCHEMAS_DIR`` if set, else ``<repo>/../shared/schemas``."""
    env = os.environ.get(SCHEMAS_ENV)
    return Path(env) if env else REPO_ROOT.parent / "shared" / "schemas"


def schema_path() -> Path:
    """The Teams manifest v1.25 schema file; a clear FileNotFoundError when it is not there."""
    path = schemas_dir() / SCHEMA_FILE
    if not path.is_file():
        how = f"${SCHEMAS_ENV}" if os.environ.get(SCHEMAS_ENV) else f"the default (set ${SCHEMAS_ENV} to change it)"
        raise FileNotFoundError(f"Teams manifest schema not found: looked for {path} (from {how})")
    return path


@functools.cache
def _validator(path: Path) -> Any:
    """One validator per schema file: the schema is large and loading it is the slow part."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def validate_manifest(doc: dict[str, Any]) -> list[str]:
    """Every schema violation as ``<json path>: <message>``, empty when the manifest is valid.

    Draft-07 rather than the draft-04 the schema declares: draft-04 ignores ``const``, so
    ``manifestVersion`` would go unchecked.
    """
    validator = _validator(schema_path())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{e.json_path}: {e.message}" for e in errors]


def check_bot_id(bot_id: str) -> str:
    """Refuse anything but a GUID: Teams requires the app id (we use the bot id) to be one."""
    if not isinstance(bot_id, str) or not _GUID.fullmatch(bot_id):
        raise ValueError(
            f"bot id {bot_id!r} is not a GUID (expected the Microsoft App ID, "
            "like 00000000-0000-0000-0000-000000000000)"
        )
    return bot_id


def _substitute(node: Any, bot_id: str) -> Any:
    if isinstance(node, str):
        return node.replace(PLACEHOLDER, bot_id)
    if isinstance(node, list):
        return [_substitute(item, bot_id) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(value, bot_id) for key, value in node.items()}
    return node


def load_template(manifest_dir: Path = MANIFEST_DIR) -> dict[str, Any]:
    """The committed manifest.json, placeholders and all."""
    doc = json.loads((manifest_dir / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{manifest_dir / 'manifest.json'} is not a JSON object")
    return doc


def build_manifest(bot_id: str, manifest_dir: Path = MANIFEST_DIR) -> dict[str, Any]:
    """The manifest with ``{{BOT_ID}}`` replaced everywhere (app id, bot id, RSC app id), validated."""
    check_bot_id(bot_id)
    doc: dict[str, Any] = _substitute(copy.deepcopy(load_template(manifest_dir)), bot_id)
    left = _PLACEHOLDER_PATTERN.search(json.dumps(doc))
    if left:
        raise ValueError(f"manifest still contains the unreplaced placeholder {left.group()} after substitution")
    problems = validate_manifest(doc)
    if problems:
        raise ManifestInvalid(problems)
    return doc


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def build_package(bot_id: str, out: Path, *, manifest_dir: Path = MANIFEST_DIR) -> Path:
    """Write the sideloadable zip and return its path.

    ``out`` is the zip's path, or an existing directory to put ``conference-challenge-bot-<version>.zip``
    in. Raises ValueError for a bot id that is not a GUID or an icon of the wrong size,
    ManifestInvalid (a ValueError) for a manifest the schema rejects, FileNotFoundError for a
    missing schema or icon.
    """
    doc = build_manifest(bot_id, manifest_dir)
    icons: dict[str, bytes] = {}
    for name, expected in ICON_SIZES.items():
        path = manifest_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"icon {path} is missing (run python manifest/make_icons.py)")
        data = path.read_bytes()
        if png_size(data) != expected:
            raise ValueError(f"icon {path} is {png_size(data)}, Teams needs {expected[0]}x{expected[1]}")
        icons[name] = data

    target = out / f"conference-challenge-bot-{doc['version']}.zip" if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    contents = {"manifest.json": (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")}
    contents.update(icons)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in PACKAGE_FILES:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, contents[name])
    return target
