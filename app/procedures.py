"""Reading procedure packs from disk: the built-in ``procedures/`` and the user's own directory.

Parsing and validation are pure (``casework.packs``); this adapter only reads files and reports
TOML syntax errors in the same file/key/expected form.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from casework.errors import PackError
from casework.packs import Area, resolve_packs
from casework.references import BadPattern, check_pattern

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "procedures"


@dataclass
class Catalogue:
    areas: dict[str, Area]
    errors: list[PackError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read(path: Path) -> tuple[Mapping[str, Any] | None, PackError | None]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), None
    except tomllib.TOMLDecodeError as exc:
        return None, PackError(str(path), "(syntax)", f"valid TOML ({exc})")
    except OSError as exc:
        return None, PackError(str(path), "(file)", f"a readable file ({exc.strerror})")


def _meetings_overrides(text: str) -> tuple[dict[str, dict[str, list[date]]], list[PackError]]:
    if not text.strip():
        return {}, []
    try:
        raw = json.loads(text)
        out: dict[str, dict[str, list[date]]] = {}
        for area, lists in raw.items():
            out[area] = {name: [date.fromisoformat(d) for d in days] for name, days in lists.items()}
        return out, []
    except (ValueError, AttributeError, TypeError) as exc:
        return {}, [PackError("CPC_MEETINGS", "(json)", f'{{"area": {{"list": ["YYYY-MM-DD"]}}}} ({exc})')]


def load_catalogue(extra_dirs: Iterable[Path] = (), meetings_json: str = "", reference_pattern: str = "") -> Catalogue:
    """Every pack from the built-in directory, then the user's (same id replaces), validated.

    ``reference_pattern`` (CPC_REFERENCE_PATTERN), when given, is the form of case references in every
    area: a deployment serves one authority, whose case system numbers its cases whatever procedure
    the partnership follows, so it overrides the packs' ``reference_pattern``.
    """
    raws: dict[str, tuple[Mapping[str, Any], str]] = {}
    errors: list[PackError] = []
    for directory in (BUILTIN_DIR, *extra_dirs):
        if not directory.is_dir():
            errors.append(PackError(str(directory), "(directory)", "an existing directory of *.toml packs"))
            continue
        for path in sorted(directory.glob("*.toml")):
            data, err = _read(path)
            if err:
                errors.append(err)
                continue
            assert data is not None
            head = data.get("area")
            area_id = head.get("id") if isinstance(head, Mapping) else None
            if not isinstance(area_id, str) or not area_id:
                errors.append(PackError(str(path), "area.id", "a non-empty string naming the area"))
                continue
            if path.stem != area_id:
                errors.append(PackError(str(path), "area.id", f"the file's name ({path.stem!r}), not {area_id!r}"))
            raws[area_id] = (data, str(path))
    areas, pack_errors = resolve_packs(raws)
    errors.extend(pack_errors)
    overrides, errs = _meetings_overrides(meetings_json)
    errors.extend(errs)
    for area_id, lists in overrides.items():
        if area_id in areas:
            merged = dict(areas[area_id].meetings)
            for name, days in lists.items():
                merged[name] = tuple(sorted({*merged.get(name, ()), *days}))
            areas[area_id] = replace(areas[area_id], meetings=merged)
        else:
            errors.append(PackError("CPC_MEETINGS", area_id, "the id of a loaded area"))
    if reference_pattern.strip():
        try:
            pattern = check_pattern(reference_pattern)
            areas = {k: replace(a, reference_pattern=pattern) for k, a in areas.items()}
        except BadPattern as exc:
            errors.append(PackError("CPC_REFERENCE_PATTERN", "(regex)", str(exc)))
    warnings: list[str] = []
    for area in areas.values():
        if area.document is None:
            warnings.append(
                f"{area.origin}: area.source_title: not given, so citations of {area.seed} cannot name the procedure"
            )
        for rule in area.rules:
            for c in rule.candidates:
                if c.meetings is not None and not area.meetings.get(c.meetings):
                    warnings.append(
                        f"{area.origin}: meetings.{c.meetings}: no dates configured, so rule {rule.id} "
                        "cannot be dated (add the dates, or set CPC_MEETINGS)"
                    )
    return Catalogue(areas, errors, warnings)
