"""The Teams app package: a manifest Teams accepts, icons of the right size and kind, and nothing else.

The manifest is checked against Microsoft's published schema, vendored in
``tests/data/teams-manifest.schema.json``: a verbatim copy of ``teams/v1.16/MicrosoftTeams.schema.json``
from the GitHub repository ``microsoft/json-schemas`` (commit 9422c3a217b95d54139cc3ed943b821c6fec75b2),
the source of https://developer.microsoft.com/json-schemas/teams/v1.16/MicrosoftTeams.schema.json.
Vendoring it keeps the tests offline and makes any schema upgrade a reviewed change.

The schema declares draft-04 but uses ``const`` (a draft-06 keyword that draft-04 validators ignore) to
pin ``manifestVersion``, so every manifest is checked with both the declared draft and draft-07.
"""

from __future__ import annotations

import json
import logging
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry

from adapters.teams import package
from adapters.teams.package import PLACEHOLDER_APP_ID, build_manifest, build_package

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "teams-manifest.schema.json"
APP_ID = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
CONTRACT_COMMANDS = {
    "help", "miss", "status", "draft", "action", "checkin", "standup",
    "update", "win", "feedback", "retro", "close", "report",
}  # fmt: skip
VALIDATORS = (jsonschema.Draft4Validator, jsonschema.Draft7Validator)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def problems(manifest: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Everything wrong with ``manifest``: schema violations plus what Mend itself needs.

    The schema allows an app without a bot (a tab-only app is valid), so the bot's presence, its three
    scopes and its command menus are checked here. An empty registry means a remote ``$ref`` would fail
    loudly instead of being fetched.
    """
    found = []
    for cls in VALIDATORS:
        validator = cls(schema, registry=Registry())
        found += [f"{cls.__name__}: {e.json_path}: {e.message}" for e in validator.iter_errors(manifest)]
    bots = manifest.get("bots") or []
    if len(bots) != 1:
        found.append(f"Mend needs exactly one bot, found {len(bots)}")
    else:
        if set(bots[0].get("scopes", ())) != {"team", "personal", "groupChat"}:
            found.append("the bot must be installable in team, personal and groupChat")
        if not bots[0].get("commandLists"):
            found.append("the bot has no command menus")
    return found


# --- the schema itself --------------------------------------------------------------------------------


def test_vendored_schema_is_the_v1_16_teams_schema(schema: dict[str, Any]) -> None:
    for cls in VALIDATORS:
        cls.check_schema(schema)
    assert schema["properties"]["manifestVersion"]["const"] == package.MANIFEST_VERSION == "1.16"
    assert "v1.16/MicrosoftTeams.schema.json" in package.SCHEMA_URL
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(schema)
    assert refs and all(ref.startswith("#/definitions/") for ref in refs), "all $refs must resolve locally"


# --- the manifest -------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_id", [APP_ID, ""])
def test_manifest_is_valid(schema: dict[str, Any], app_id: str) -> None:
    assert problems(build_manifest(app_id), schema) == []


def test_manifest_names_the_bot_and_its_capabilities() -> None:
    manifest = build_manifest(APP_ID.upper(), valid_domains=["mend.example.org"])
    assert manifest["$schema"] == package.SCHEMA_URL
    assert manifest["manifestVersion"] == "1.16"
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    bot = manifest["bots"][0]
    assert bot["scopes"] == ["team", "personal", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["description"]["full"].startswith("Mend helps your team recover from a missed deadline:")
    assert manifest["validDomains"] == ["mend.example.org"]
    assert manifest["packageName"] == "org.example.mend"
    assert set(manifest["developer"]) == {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}


def test_missing_app_id_uses_the_placeholder_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=package.__name__):
        manifest = build_manifest("  ")
    assert manifest["id"] == manifest["bots"][0]["botId"] == PLACEHOLDER_APP_ID
    assert "MICROSOFT_APP_ID" in caplog.text and PLACEHOLDER_APP_ID in caplog.text


@pytest.mark.parametrize(
    "bad", ["mend-bot", "1b2c3d4e5f604a7b8c9d0e1f2a3b4c5d", APP_ID + "0", "{" + APP_ID + "}"]
)
def test_an_app_id_that_is_not_a_guid_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_manifest(bad)


def test_valid_domains_are_bare_unique_host_names() -> None:
    manifest = build_manifest(
        APP_ID, valid_domains=["https://mend.example.org/api/messages", "mend.example.org", " other.example "]
    )
    assert manifest["validDomains"] == ["mend.example.org", "other.example"]


def test_command_menus_stay_within_teams_limits() -> None:
    lists = build_manifest(APP_ID)["bots"][0]["commandLists"]
    assert [cl["scopes"] for cl in lists] == [["team"], ["personal"], ["groupChat"]]
    for command_list in lists:
        commands = command_list["commands"]
        titles = [c["title"] for c in commands]
        assert len(commands) == package.MAX_COMMANDS_PER_LIST == 10
        assert len(set(titles)) == len(titles)
        assert set(titles) <= CONTRACT_COMMANDS
        assert titles[0] == "help"
        for command in commands:
            assert 0 < len(command["title"]) <= package.MAX_COMMAND_TITLE == 32
            assert 0 < len(command["description"]) <= package.MAX_COMMAND_DESCRIPTION == 128
    assert set(package.COMMANDS) == CONTRACT_COMMANDS


def test_every_menu_offers_close_and_the_working_loop() -> None:
    """A lead closes a recovery from the menu; what is left out of a menu is still typed and in `help`."""
    menus = {cl["scopes"][0]: [c["title"] for c in cl["commands"]]
             for cl in build_manifest(APP_ID)["bots"][0]["commandLists"]}
    loop = {"help", "miss", "status", "draft", "action", "checkin", "update", "close", "report"}
    for scope, titles in menus.items():
        assert loop <= set(titles), (scope, loop - set(titles))
    assert "standup" in menus["team"] and menus["team"] == menus["groupChat"]


def test_menu_hints_are_short_plain_and_show_their_own_command() -> None:
    for word, hint in package.COMMANDS.items():
        assert len(hint) <= package.MENU_DESCRIPTION == 64, (word, hint)
        assert hint[0].isupper() and not hint.endswith("."), (word, hint)
        assert "|" not in hint and "[" not in hint, (word, hint)  # no grammar notation in a menu
        first = (hint.split(": ", 1)[1] if ": " in hint else "").split()[:1]
        if first and first[0] in CONTRACT_COMMANDS:  # an example starts with the command it describes
            assert first[0] == word, (word, hint)


def _manifest_with(**changes: Any) -> dict[str, Any]:
    manifest = build_manifest(APP_ID)
    bot = manifest["bots"][0]
    commands = bot["commandLists"][0]["commands"]
    if "drop" in changes:
        del manifest[changes["drop"]]
    if "title" in changes:
        commands[0]["title"] = changes["title"]
    if "description" in changes:
        commands[0]["description"] = changes["description"]
    if changes.get("extra_command"):
        commands.append({"title": "win", "description": "One too many."})
    if "bot_id" in changes:
        bot["botId"] = changes["bot_id"]
    if "scopes" in changes:
        bot["scopes"] = changes["scopes"]
    if "manifest_version" in changes:
        manifest["manifestVersion"] = changes["manifest_version"]
    if "accent" in changes:
        manifest["accentColor"] = changes["accent"]
    return manifest


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"drop": "bots"}, "exactly one bot"),
        ({"drop": "id"}, "'id' is a required property"),
        ({"drop": "icons"}, "'icons' is a required property"),
        (
            {"title": "a command title that is far too long"},
            ".title: 'a command title that is far too long' is too long",
        ),
        ({"description": "x" * 129}, ".commands[0].description: 'xxx"),
        ({"extra_command": True}, ".commandLists[0].commands: "),
        ({"bot_id": "mend-bot"}, ".botId: 'mend-bot' does not match"),
        ({"scopes": ["team", "groupchat"]}, "'groupchat' is not one of"),
        ({"manifest_version": "1.7"}, "'1.16' was expected"),
        ({"accent": "teal"}, ".accentColor: 'teal' does not match"),
    ],
    ids=[
        "no-bots",
        "no-id",
        "no-icons",
        "long-title",
        "long-description",
        "eleven-commands",
        "bot-id-not-guid",
        "lowercase-groupchat",
        "old-manifest-version",
        "accent-not-hex",
    ],
)
def test_a_broken_manifest_fails_validation(
    schema: dict[str, Any], changes: dict[str, Any], expected: str
) -> None:
    found = problems(_manifest_with(**changes), schema)
    assert any(expected in problem for problem in found), found


# --- the package --------------------------------------------------------------------------------------


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    return build_package(APP_ID, tmp_path / "out" / "mend-teams.zip")


def test_package_holds_exactly_the_manifest_and_two_icons(built: Path, schema: dict[str, Any]) -> None:
    assert built.is_file()
    with zipfile.ZipFile(built) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest == build_manifest(APP_ID)
    assert problems(manifest, schema) == []
    assert set(manifest["icons"].values()) == {"color.png", "outline.png"}


def test_package_is_reproducible_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    first = build_package(APP_ID, tmp_path / "a.zip").read_bytes()
    second = build_package(APP_ID, tmp_path / "a.zip").read_bytes()
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_icons_have_the_sizes_teams_requires(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        assert png_size(zf.read("color.png")) == (192, 192)
        assert png_size(zf.read("outline.png")) == (32, 32)


def test_outline_icon_is_white_on_transparent(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        pixels = decode_png(zf.read("outline.png"))
    assert len(pixels) == 32 * 32
    for r, g, b, a in pixels:
        assert a == 0 or (r, g, b) == (255, 255, 255), (r, g, b, a)
    alphas = [p[3] for p in pixels]
    assert alphas.count(255) > 50, "the mark should be clearly visible"
    assert alphas.count(0) > 32 * 32 // 2, "the outline icon must be mostly transparent"


def test_colour_icon_is_opaque_and_in_colour(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        pixels = decode_png(zf.read("color.png"))
    assert len(pixels) == 192 * 192
    assert all(p[3] == 255 for p in pixels)
    accent = package._hex_rgb(package.ACCENT_COLOR)
    assert pixels[0][:3] == accent
    assert (255, 255, 255) in {p[:3] for p in pixels}, "the white check mark should be there"


# --- a small PNG reader, so the icons are checked as a PNG decoder sees them ----------------------------


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", _chunks(data)[0][1][:8])
    return width, height


def decode_png(data: bytes) -> list[tuple[int, int, int, int]]:
    """Pixels of an 8-bit, non-interlaced RGBA PNG, undoing all five scanline filters."""
    chunks = _chunks(data)
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour_type, interlace) == (8, 6, 0), "expected 8-bit RGBA, not interlaced"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride, bpp = width * 4, 4
    assert len(raw) == height * (stride + 1)
    previous, pixels = bytearray(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        pixels += [tuple(line[x : x + 4]) for x in range(0, stride, 4)]
        previous = line
    return pixels
