"""The Microsoft Teams app package: ``manifest.json`` plus two icons, zipped.

Teams only talks to a bot after someone uploads an *app package* that names the bot's
Microsoft App Id. ``mend teams-package`` writes that package with :func:`build_package`.

The manifest follows schema v1.16
(https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json; a copy is
vendored for the tests in ``tests/data/teams-manifest.schema.json``). v1.16 covers every field Mend
uses; moving to a later version is a matter of replacing that copy and these two constants.

The icons are drawn here with :mod:`zlib` and :mod:`struct` rather than shipped as binary files or drawn
with Pillow: the package stays reproducible from source, needs no extra dependency, and a reviewer can
read exactly what the mark looks like.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

log = logging.getLogger(__name__)

SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.16"

#: Used when no Microsoft App Id is configured, so that ``mend teams-package`` still produces a package
#: that passes schema validation and can be inspected. Teams will NOT route messages to it: replace it
#: by setting ``MICROSOFT_APP_ID`` (see docs/TEAMS_SETUP.md) and build the package again.
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"

ACCENT_COLOR = "#2E7D6B"  # a calm teal: reassuring rather than alarming, readable with white on top

COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
COLOR_ICON_SIZE = 192  # Teams: full-colour icon, 192x192
OUTLINE_ICON_SIZE = 32  # Teams: white-on-transparent outline icon, 32x32

# Teams' own limits for bot command menus (schema v1.16: bots[].commandLists[].commands[]).
MAX_COMMANDS_PER_LIST = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

#: The contract's commands, each with the one-line hint Teams shows beside it in the compose-box menu.
#: Hints are short and plain (at most :data:`MENU_DESCRIPTION` characters, well under Teams' 128, so the
#: menu does not cut them off) and show the form where there is one. Mend understands more words than
#: these (``affected``, ``plan``, ``deadline``, ``edit``, ``approve`` …); the playbook prompts for them at
#: the step that needs them, and ``help`` lists them all.
COMMANDS: dict[str, str] = {
    "help": "Every command, with an example",
    "miss": "Open a recovery: miss renewals for 14 patients",
    "status": "Where the recovery stands now",
    "draft": "Draft a message: draft patients, families, payers …",
    "action": "Add a fix with an owner: action Fix the tracker @name due friday",
    "checkin": "Report progress: checkin A1 on-track, at-risk, blocked or done",
    "standup": "Post the standup now, or plan it: standup weekdays at 09:00",
    "update": "Draft a progress update for the people affected",
    "win": "Record a small win: win 6 renewals resubmitted",
    "feedback": "Record what a patient, family or partner told you",
    "retro": "Look back together: what happened, why, what changes",
    "close": "Close the recovery when its actions are done",
    "report": "The recovery's full report",
}
MENU_DESCRIPTION = 64

#: Teams shows at most ten commands per scope and the contract has thirteen, so each menu carries the ten
#: that matter most *where it appears*. Every command still works when typed, and ``help`` lists them all.
#:
#: * team and groupChat, where a recovery is run together: its working loop from ``miss`` to ``close``
#:   and ``report``. Left out: ``win`` and ``feedback`` (short notes people type freely) and ``retro``
#:   (the playbook's last step asks for it, and each retro question says to answer with ``retro``).
#: * personal, a one-to-one chat with Mend: checking in, drafting and recording privately, and closing a
#:   recovery kept there. Left out: ``standup`` (a channel ritual), ``retro`` (done as a team) and ``win``
#:   (a celebration belongs where the team sees it).
_TOGETHER = ("help", "miss", "status", "draft", "action", "checkin", "standup", "update", "close", "report")
_ONE_TO_ONE = ("help", "miss", "status", "draft", "action", "checkin", "update", "feedback", "close", "report")
COMMANDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "team": _TOGETHER,
    "personal": _ONE_TO_ONE,
    "groupChat": _TOGETHER,
}

SHORT_DESCRIPTION = "Recover from a missed deadline, calmly and together."
FULL_DESCRIPTION = (
    "Mend helps your team recover from a missed deadline: it walks you through acknowledging the miss, "
    "telling the people affected, fixing what caused it, checking in until the fix is done, and learning "
    "from it. It drafts plain-language messages for patients, families, providers, payers and leadership, "
    "keeps track of who owns each next step and when it is due, sends gentle check-in reminders, posts a "
    "short standup, and writes the recovery report at the end. Text that looks like protected health "
    "information is masked before it is stored or posted, and patients are referred to by pseudonym. "
    "Type help to see every command."
)


def build_manifest(
    app_id: str,
    *,
    name: str = "Mend",
    version: str = "1.0.0",
    developer_url: str = "https://example.org/mend",
    valid_domains: Iterable[str] = (),
) -> dict:
    """Return the Teams app manifest (schema v1.16) for the bot whose Microsoft App Id is ``app_id``.

    ``app_id`` is used for both the app ``id`` and the bot's ``botId``: one registration, one identity,
    nothing for a deployer to keep in sync. When it is empty, :data:`PLACEHOLDER_APP_ID` is used so the
    package can still be built and inspected, and a warning is logged, because Teams cannot deliver
    messages to a bot with that id. A non-empty id that is not a GUID raises :class:`ValueError` rather
    than producing a package Teams would refuse at upload time with a vaguer message.

    Command menus: Teams allows at most ten commands per list (title at most 32 characters, description
    at most 128), so each scope's list carries the ten most useful there; see :data:`COMMANDS_BY_SCOPE`.
    """
    bot_id = _app_id_or_placeholder(app_id)
    if not 1 <= len(name) <= 30:
        raise ValueError(f"The app name must be 1 to 30 characters for Teams; got {len(name)}: {name!r}.")
    base = developer_url.rstrip("/")
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": bot_id,
        "packageName": _package_name(base),
        "developer": {
            "name": name,
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": name, "full": f"{name}: recover from a missed deadline"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["team", "personal", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": [scope],
                        "commands": [{"title": word, "description": COMMANDS[word]} for word in words],
                    }
                    for scope, words in COMMANDS_BY_SCOPE.items()
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": _domains(valid_domains),
    }


def build_package(app_id: str, out_path: Path) -> Path:
    """Write the Teams app package (``manifest.json``, ``color.png``, ``outline.png``) to ``out_path``.

    The zip holds exactly those three files at its root, which is what Teams' "Upload a custom app"
    expects. Entries carry a fixed timestamp so the same inputs give byte-identical packages, and the
    file is written to a temporary name and then renamed, so an interrupted run never leaves a
    half-written package behind for someone to upload. Returns the path written.
    """
    out_path = Path(out_path)
    manifest = build_manifest(app_id)
    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        COLOR_ICON: color_icon_png(),
        OUTLINE_ICON: outline_icon_png(),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, ZipFile(raw, "w", compression=ZIP_DEFLATED) as zf:
            for arcname, data in files.items():
                info = ZipInfo(arcname, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        # mkstemp creates the file 0600; the package holds no secret and is meant to be handed around.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return out_path


# --- manifest helpers ---------------------------------------------------------------------------------


def _app_id_or_placeholder(app_id: str | None) -> str:
    app_id = (app_id or "").strip()
    if not app_id:
        log.warning(
            "MICROSOFT_APP_ID is not set: the Teams package uses the placeholder id %s. "
            "Teams will not deliver messages to it; set MICROSOFT_APP_ID and build the package again.",
            PLACEHOLDER_APP_ID,
        )
        return PLACEHOLDER_APP_ID
    if not _GUID.fullmatch(app_id):
        raise ValueError(
            "The Microsoft App Id must be a GUID such as 1b2c3d4e-0000-4000-8000-123456789abc "
            "(Azure portal > your Azure Bot > Configuration > Microsoft App ID)."
        )
    return app_id.lower()


def _package_name(base_url: str) -> str:
    """Reverse-domain package name from the developer URL (``example.org/mend`` -> ``org.example.mend``).

    Teams wants a stable, unique, reverse-domain identifier; deriving it from the developer's own URL
    gives one without another setting to configure.
    """
    parts = urlsplit(base_url)
    labels = [label for label in reversed((parts.hostname or "example.org").split(".")) if label]
    labels += [segment for segment in parts.path.split("/") if segment]
    labels = [re.sub(r"[^A-Za-z0-9]", "", label).lower() for label in labels]
    return ".".join(label for label in labels if label)[:64] or "org.example.mend"


def _domains(valid_domains: Iterable[str]) -> list[str]:
    """Bare host names, de-duplicated in order: Teams rejects entries that carry a scheme or a path."""
    seen: list[str] = []
    for entry in valid_domains:
        entry = entry.strip()
        if "://" in entry:
            entry = urlsplit(entry).netloc
        entry = entry.split("/", 1)[0]
        if entry and entry not in seen:
            seen.append(entry)
    return seen


# --- icons --------------------------------------------------------------------------------------------
#
# The mark is a check mark: "done, made right". The colour icon is a white check on a full-bleed teal
# square (Teams rounds the corners itself); the outline icon is a white check inside a white rounded
# square, on transparency, as Teams requires for the activity bar. Shapes are drawn with signed distance
# functions so edges are anti-aliased without supersampling.

Point = tuple[float, float]
Pixel = tuple[int, int, int, int]

# The check mark, in units of the icon's side. For the colour icon it sits inside the central half
# of the canvas, the region Teams keeps when it crops the icon into a circle or a smaller tile.
_CHECK: tuple[Point, Point, Point] = ((0.31, 0.52), (0.44, 0.65), (0.69, 0.38))


def color_icon_png(size: int = COLOR_ICON_SIZE) -> bytes:
    """The 192x192 full-colour icon: a white check mark on the accent colour, fully opaque."""
    background = _hex_rgb(ACCENT_COLOR)
    check = [(x * size, y * size) for x, y in _CHECK]
    half_width = 0.045 * size

    def shade(px: float, py: float) -> Pixel:
        cover = _coverage(_polyline_distance(px, py, check) - half_width)
        r, g, b = (round(c + (255 - c) * cover) for c in background)
        return (r, g, b, 255)

    return encode_png(size, size, shade)


def outline_icon_png(size: int = OUTLINE_ICON_SIZE) -> bytes:
    """The 32x32 outline icon: white strokes on transparency; edge pixels are white with partial alpha."""
    centre = size / 2
    box_half = size / 2 - 2.5  # the rounded square's centre line, leaving room for the stroke
    radius = size * 0.19
    ring_half_width = size / 32
    check = [(x * size, y * size) for x, y in _CHECK]
    check_half_width = size * 0.045

    def shade(px: float, py: float) -> Pixel:
        ring = abs(_rounded_box_distance(px - centre, py - centre, box_half, radius)) - ring_half_width
        tick = _polyline_distance(px, py, check) - check_half_width
        alpha = round(255 * _coverage(min(ring, tick)))
        return (255, 255, 255, alpha)

    return encode_png(size, size, shade)


def encode_png(width: int, height: int, shade: Callable[[float, float], Pixel]) -> bytes:
    """Encode an 8-bit RGBA PNG; ``shade(x, y)`` gives the colour at each pixel's centre.

    PNG is a signature followed by length-prefixed, CRC-checked chunks: IHDR (size and pixel format),
    IDAT (the zlib-compressed scanlines, each prefixed by its filter type, here 0 = none) and IEND.
    """
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(shade(x + 0.5, y + 0.5))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _coverage(signed_distance: float) -> float:
    """How much of a one-pixel-wide sample lies inside a shape whose edge is ``signed_distance`` away."""
    return min(1.0, max(0.0, 0.5 - signed_distance))


def _segment_distance(px: float, py: float, a: Point, b: Point) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _polyline_distance(px: float, py: float, points: list[Point]) -> float:
    return min(_segment_distance(px, py, a, b) for a, b in zip(points, points[1:], strict=False))


def _rounded_box_distance(x: float, y: float, half: float, radius: float) -> float:
    """Signed distance from (x, y) to a square of half-side ``half`` around the origin, corners rounded."""
    qx = abs(x) - half + radius
    qy = abs(y) - half + radius
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
