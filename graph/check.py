"""``cpc graph check``: which application permissions the app has, which are missing, and whether the
organiser's mailbox is within the app's reach.

The least-privilege application permissions (README: "Microsoft Graph permissions"):

* ``Calendars.ReadBasic`` (or ``Calendars.Read``) for ``getSchedule``;
* ``Calendars.ReadWrite`` to book, update and cancel events in the organiser's calendar (it also
  covers ``getSchedule``);
* ``Mail.Send`` to send digests and notices from the shared mailbox.

The granted permissions are read from the ``roles`` claim of an app-only token. The probes then call
``getSchedule`` and list one event in the organiser's mailbox: a 403 there, with the permission
granted, means Exchange Online RBAC for Applications (or an application access policy) keeps the app
out of that mailbox. ``Mail.Send`` cannot be probed without sending a message, so it is reported from
the token only.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.client import GRAPH_SCOPE, GraphConfig, build_client, build_credential
from graph.retry import describe, no_sdk_retry, status_of

#: What the bot does, and the application permissions that allow it (least privileged first).
NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("read availability (getSchedule)", ("Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite")),
    ("book, update and cancel events", ("Calendars.ReadWrite",)),
    ("send mail from the shared mailbox (sendMail)", ("Mail.Send",)),
)


@dataclass
class CheckLine:
    ok: bool | None  # None: could not be checked
    what: str
    detail: str


@dataclass
class CheckReport:
    lines: list[CheckLine] = field(default_factory=list)
    granted: tuple[str, ...] = ()
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(line.ok is not False for line in self.lines)

    def add(self, ok: bool | None, what: str, detail: str) -> None:
        self.lines.append(CheckLine(ok, what, detail))

    def text(self) -> str:
        marks = {True: "ok     ", False: "MISSING", None: "unknown"}
        out = [f"{marks[line.ok]}  {line.what}: {line.detail}" for line in self.lines]
        if self.missing:
            out.append("Missing application permissions: " + ", ".join(self.missing))
        out.append(
            "All checks passed." if self.ok else "Some checks failed; see README, 'Microsoft Graph permissions'."
        )
        return "\n".join(out)


def token_roles(token: str) -> tuple[str, ...]:
    """The ``roles`` claim of an app-only access token (read, not verified: it only informs the report)."""
    parts = token.split(".")
    if len(parts) < 2:
        return ()
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, json.JSONDecodeError):
        return ()
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()


async def check_graph(cfg: GraphConfig, credential: Any = None, probe: bool = True) -> CheckReport:
    """Check configuration, the token's application roles and (with ``probe``) the organiser's mailbox.

    Permissions granted only through Exchange Online RBAC for Applications do not appear in the
    token's ``roles``; when a probe succeeds without the role in the token, the permission is reported
    as granted that way (reading), or as not verifiable (writing and sending, which are not probed).
    """
    report = CheckReport()
    for problem in cfg.problems():
        report.add(False, "configuration", problem)
    if not cfg.configured and credential is None:
        return report
    report.add(True, "credential", cfg.credential_kind or "supplied by the caller")
    cred = credential if credential is not None else build_credential(cfg)
    try:
        try:
            token = await cred.get_token(GRAPH_SCOPE)
        except Exception as exc:  # azure.identity raises ClientAuthenticationError and others
            report.add(
                False,
                "app-only token",
                f"could not be obtained ({type(exc).__name__}); check the tenant, client id and secret or certificate",
            )
            return report
        granted = token_roles(token.token)
        report.granted = granted
        probes: dict[str, bool] = {}
        if probe and cfg.organiser:
            probes = await _probe(cfg, cred, report)
        via_rbac = any(ok for name, ok in probes.items()) and not granted
        for what, perms in NEEDS:
            have = [p for p in perms if p in granted]
            needs = f"needs {perms[0]}" + (f" (or {', '.join(perms[1:])})" if len(perms) > 1 else "")
            if have:
                report.add(True, what, f"granted ({', '.join(have)})")
            elif what.startswith("read availability") and probes.get("schedule"):
                report.add(
                    True, what, "not in the token, but getSchedule answered: granted by Exchange RBAC for Applications"
                )
            elif via_rbac:
                report.add(
                    None,
                    what,
                    f"{needs}; not in the token (Exchange RBAC for Applications?): verify with "
                    "Test-ServicePrincipalAuthorization in Exchange Online PowerShell",
                )
            else:
                report.add(False, what, needs)
                if perms[0] not in report.missing:
                    report.missing.append(perms[0])
        if not granted and not via_rbac:
            report.add(
                None, "token roles", "the token lists no application roles: grant admin consent to the permissions"
            )
        if cfg.sender:
            report.add(None, "sender mailbox", "Mail.Send cannot be probed without sending; its scope is not verified")
    finally:
        if credential is None and hasattr(cred, "close"):
            await cred.close()
    return report


async def _probe(cfg: GraphConfig, cred: Any, report: CheckReport) -> dict[str, bool]:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
        GetSchedulePostRequestBody,
    )
    from msgraph.generated.users.item.events.events_request_builder import EventsRequestBuilder

    from graph.graph_calendar import PREFER_UTC, to_graph_utc

    out: dict[str, bool] = {}
    client = build_client(cfg, credential=cred)
    user = client.users.by_user_id(cfg.organiser)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    body = GetSchedulePostRequestBody(
        schedules=[cfg.organiser], start_time=to_graph_utc(start), end_time=to_graph_utc(start + timedelta(hours=1))
    )
    try:
        await user.calendar.get_schedule.post(body, request_configuration=no_sdk_retry(PREFER_UTC))
        report.add(True, "organiser mailbox: getSchedule", "answered")
        out["schedule"] = True
    except Exception as exc:
        report.add(False, "organiser mailbox: getSchedule", _explain(exc))
        out["schedule"] = False
    query = EventsRequestBuilder.EventsRequestBuilderGetQueryParameters(top=1, select=["id"])
    config: Any = RequestConfiguration(query_parameters=query, options=[RetryHandlerOption(max_retries=0)])
    try:
        await user.events.get(request_configuration=config)
        report.add(True, "organiser mailbox: calendar", "readable (booking also needs Calendars.ReadWrite)")
        out["calendar"] = True
    except Exception as exc:
        report.add(False, "organiser mailbox: calendar", _explain(exc))
        out["calendar"] = False
    return out


def _explain(exc: Exception) -> str:
    status = status_of(exc)
    if status == 403:
        return (
            f"refused ({describe(exc)}): the permission is missing, or Exchange Online RBAC for Applications "
            "does not include this mailbox in the app's scope"
        )
    if status == 404:
        return f"not found ({describe(exc)}): check CPC_ORGANISER_MAILBOX"
    return f"failed ({describe(exc)})"
