"""The Teams app package: a manifest Teams will accept, icons of the right size and kind, a flat zip.

The PNGs are decoded here with zlib alone (make_icons.py writes RGBA, no interlace, filter 0), so
these tests check the files themselves rather than trusting the script that drew them.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import struct
import zipfile
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.manifest import (
    MANIFEST_DIR,
    SCHEMAS_ENV,
    ManifestInvalid,
    build_manifest,
    build_package,
    load_template,
    validate_manifest,
)
from bot.commands import USAGE

BOT_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

# Every command the bot understands (its help table, bot.commands.USAGE); all but "dissent amend"
# (two words after dissent, shown in help) must be discoverable in some list, and nothing else may be.
BOT_COMMANDS = sorted(set(USAGE) - {"dissent amend"})


# --- PNG decoding (ours, not the generator's) ------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"CRC of {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def png_header(data: bytes) -> dict[str, int]:
    body = png_chunks(data)[0][1]
    width, height, depth, colour, compression, filt, interlace = struct.unpack(">IIBBBBB", body)
    return {
        "width": width,
        "height": height,
        "depth": depth,
        "colour": colour,
        "compression": compression,
        "filter": filt,
        "interlace": interlace,
    }


def png_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """RGBA pixels of an 8-bit, colour type 6, non-interlaced PNG whose rows all use filter 0."""
    head = png_header(data)
    assert (head["depth"], head["colour"], head["interlace"]) == (8, 6, 0)
    raw = zlib.decompress(b"".join(body for kind, body in png_chunks(data) if kind == b"IDAT"))
    stride = 1 + 4 * head["width"]
    assert len(raw) == stride * head["height"]
    pixels: list[tuple[int, int, int, int]] = []
    for y in range(head["height"]):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0, f"row {y} uses filter {row[0]}"
        pixels.extend((row[i], row[i + 1], row[i + 2], row[i + 3]) for i in range(1, len(row), 4))
    return pixels


def load_make_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the manifest ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    # No skip when the schema is missing: build_manifest's FileNotFoundError says where it looked.
    return build_manifest(BOT_ID)


def test_built_manifest_validates_against_schema(built: dict[str, Any]) -> None:
    assert validate_manifest(built) == []
    assert built["manifestVersion"] == "1.25"
    assert built["$schema"].endswith("/teams/v1.25/MicrosoftTeams.schema.json")
    assert built["version"] == "0.1.0"


def test_bot_id_is_substituted_everywhere(built: dict[str, Any]) -> None:
    assert built["id"] == BOT_ID
    assert built["bots"][0]["botId"] == BOT_ID
    assert built["webApplicationInfo"]["id"] == BOT_ID
    assert "{{" not in json.dumps(built)


def test_template_keeps_the_placeholder() -> None:
    template = load_template()
    assert template["id"] == "{{BOT_ID}}"
    assert template["bots"][0]["botId"] == "{{BOT_ID}}"


def test_bot_shape(built: dict[str, Any]) -> None:
    (bot,) = built["bots"]
    assert set(bot["scopes"]) == {"personal", "groupChat", "team"}
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert built["name"]["short"] == "Conference challenge bot"


def test_meeting_rsc_permission_declared(built: dict[str, Any]) -> None:
    rsc = built["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "OnlineMeeting.ReadBasic.Chat", "type": "Application"} in rsc


def test_every_command_listed_with_title_and_description(built: dict[str, Any]) -> None:
    lists = built["bots"][0]["commandLists"]
    assert len(lists) <= 3
    titles: set[str] = set()
    for cl in lists:
        assert len(cl["commands"]) <= 12  # schema v1.25: maxItems 12 (v1.22 allowed 10)
        for cmd in cl["commands"]:
            assert cmd["title"].strip() and cmd["description"].strip()
            titles.add(cmd["title"])
    assert set(BOT_COMMANDS) <= titles, set(BOT_COMMANDS) - titles
    assert titles <= set(BOT_COMMANDS), titles - set(BOT_COMMANDS)


def test_command_lists_one_per_scope(built: dict[str, Any]) -> None:
    scopes = [tuple(cl["scopes"]) for cl in built["bots"][0]["commandLists"]]
    assert sorted(scopes) == [("groupChat",), ("personal",), ("team",)]
    by_scope = {cl["scopes"][0]: {c["title"] for c in cl["commands"]} for cl in built["bots"][0]["commandLists"]}
    assert {"dissent", "conference link"} <= by_scope["groupChat"]


# --- the schema can fail ---------------------------------------------------------------------------


def test_missing_name_is_rejected(built: dict[str, Any]) -> None:
    doc = copy.deepcopy(built)
    del doc["name"]
    problems = validate_manifest(doc)
    assert problems and any("'name' is a required property" in p for p in problems)


@pytest.mark.parametrize("count", [13, 20])
def test_too_many_commands_in_a_list_is_rejected(built: dict[str, Any], count: int) -> None:
    doc = copy.deepcopy(built)
    doc["bots"][0]["commandLists"][0]["commands"] = [{"title": f"c{i}", "description": "d"} for i in range(count)]
    problems = validate_manifest(doc)
    assert any("commandLists[0].commands" in p and "too long" in p for p in problems), problems


def test_command_without_description_is_rejected(built: dict[str, Any]) -> None:
    doc = copy.deepcopy(built)
    doc["bots"][0]["commandLists"][0]["commands"][0] = {"title": "help"}
    assert any("'description' is a required property" in p for p in validate_manifest(doc))


def test_wrong_manifest_version_is_rejected_by_const(built: dict[str, Any]) -> None:
    doc = copy.deepcopy(built)
    doc["manifestVersion"] = "1.17"
    assert any(p.startswith("$.manifestVersion") for p in validate_manifest(doc))


def test_four_command_lists_are_rejected(built: dict[str, Any]) -> None:
    doc = copy.deepcopy(built)
    lists = doc["bots"][0]["commandLists"]
    lists.append(copy.deepcopy(lists[0]))
    assert any("commandLists" in p and "too long" in p for p in validate_manifest(doc))


def test_missing_schema_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEMAS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere") as info:
        validate_manifest({})
    assert SCHEMAS_ENV in str(info.value)


# --- the bot id ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["", "not-a-guid", "{{BOT_ID}}", "0b1c2d3e4f5061728394a5b6c7d8e9f0", f"{BOT_ID} ", "{" + BOT_ID + "}"],
)
def test_non_guid_bot_id_is_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a GUID"):
        build_package(bad, tmp_path / "app.zip")
    assert not (tmp_path / "app.zip").exists()


# --- icons -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), [("color.png", 192), ("outline.png", 32)])
def test_icon_dimensions_and_format(name: str, size: int) -> None:
    head = png_header((MANIFEST_DIR / name).read_bytes())
    assert (head["width"], head["height"]) == (size, size)
    assert (head["depth"], head["colour"], head["interlace"]) == (8, 6, 0)


def test_outline_is_only_white_and_transparent() -> None:
    pixels = png_pixels((MANIFEST_DIR / "outline.png").read_bytes())
    assert len(pixels) == 32 * 32
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    opaque = sum(1 for *_, a in pixels if a)
    assert 0.2 * len(pixels) < opaque < 0.9 * len(pixels), "a visible symbol, not empty or a full square"
    assert pixels[0][3] == 0, "the background is transparent"


def test_color_icon_is_full_colour_and_opaque_in_the_middle() -> None:
    pixels = png_pixels((MANIFEST_DIR / "color.png").read_bytes())
    assert len(pixels) == 192 * 192
    colours = {(r, g, b) for r, g, b, a in pixels if a == 255}
    assert len(colours) > 2
    assert pixels[96 * 192 + 10][3] == 255


def test_committed_icons_match_the_script() -> None:
    make_icons = load_make_icons()
    for name, render in [("color.png", make_icons.render_color), ("outline.png", make_icons.render_outline)]:
        assert png_pixels(render()) == png_pixels((MANIFEST_DIR / name).read_bytes()), (
            f"{name} is stale: run python manifest/make_icons.py"
        )


# --- the package -----------------------------------------------------------------------------------


def test_package_holds_exactly_three_files_at_root(tmp_path: Path) -> None:
    out = build_package(BOT_ID, tmp_path / "pkg" / "app.zip")
    assert out == tmp_path / "pkg" / "app.zip"
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        doc = json.loads(zf.read("manifest.json"))
        assert zf.read("color.png") == (MANIFEST_DIR / "color.png").read_bytes()
        assert zf.read("outline.png") == (MANIFEST_DIR / "outline.png").read_bytes()
    assert doc["id"] == BOT_ID
    assert validate_manifest(doc) == []


def test_package_into_a_directory_is_named_by_version(tmp_path: Path) -> None:
    out = build_package(BOT_ID, tmp_path)
    assert out == tmp_path / "conference-challenge-bot-0.1.0.zip"
    assert zipfile.is_zipfile(out)


def test_package_is_reproducible(tmp_path: Path) -> None:
    a = build_package(BOT_ID, tmp_path / "a.zip").read_bytes()
    b = build_package(BOT_ID, tmp_path / "b.zip").read_bytes()
    assert a == b


def test_invalid_manifest_is_not_packaged(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    doc = load_template()
    del doc["developer"]
    (src / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    for name in ("color.png", "outline.png"):
        (src / name).write_bytes((MANIFEST_DIR / name).read_bytes())
    with pytest.raises(ManifestInvalid, match="developer") as info:
        build_package(BOT_ID, tmp_path / "app.zip", manifest_dir=src)
    assert info.value.problems
    assert not (tmp_path / "app.zip").exists()


def test_wrong_icon_size_is_not_packaged(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "manifest.json").write_bytes((MANIFEST_DIR / "manifest.json").read_bytes())
    (src / "color.png").write_bytes((MANIFEST_DIR / "outline.png").read_bytes())
    (src / "outline.png").write_bytes((MANIFEST_DIR / "outline.png").read_bytes())
    with pytest.raises(ValueError, match="192x192"):
        build_package(BOT_ID, tmp_path / "app.zip", manifest_dir=src)
