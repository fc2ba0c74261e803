"""``cpc graph check``: granted and missing application permissions, and the mailbox scope probes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from graph.check import check_graph, token_roles
from graph.client import GraphConfig, NotConfigured, build_credential
from tests.e2e.fake_graph import FakeCredential, FakeGraph, fake_token
from tests.integration.graph_world import ORGANISER, SENDER


@pytest.fixture()
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as f:
        yield f


def cfg(fake: FakeGraph) -> GraphConfig:
    return GraphConfig(
        tenant_id="t", client_id="c", client_secret="s", base_url=fake.base_url, organiser=ORGANISER, sender=SENDER
    )


def test_everything_granted_passes(fake: FakeGraph) -> None:
    report = asyncio.run(check_graph(cfg(fake), FakeCredential(["Calendars.ReadWrite", "Mail.Send"])))
    assert report.ok and report.missing == []
    text = report.text()
    assert "granted (Calendars.ReadWrite)" in text and "granted (Mail.Send)" in text
    assert "Mail.Send cannot be probed without sending" in text
    assert {r.kind for r in fake.requests()} == {"getSchedule", "list_events"}
    assert fake.sent == [] and fake.live_events() == []  # the check changes nothing


def test_missing_permissions_are_listed_least_privileged_first(fake: FakeGraph) -> None:
    report = asyncio.run(check_graph(cfg(fake), FakeCredential(["Calendars.ReadBasic"])))
    assert not report.ok
    assert report.missing == ["Calendars.ReadWrite", "Mail.Send"]
    text = report.text()
    assert "ok       read availability (getSchedule): granted (Calendars.ReadBasic)" in text
    assert "MISSING  book, update and cancel events: needs Calendars.ReadWrite" in text
    assert "MISSING  organiser mailbox: calendar: refused (HTTP 403 ErrorAccessDenied)" in text


def test_a_mailbox_outside_the_rbac_scope_is_reported(fake: FakeGraph) -> None:
    fake.restrict_to(["someone.else@council.example"])
    report = asyncio.run(check_graph(cfg(fake), FakeCredential()))
    assert not report.ok and report.missing == []
    assert "RBAC for Applications does not include this mailbox" in report.text()


def test_permissions_granted_only_by_exchange_rbac_for_applications(fake: FakeGraph) -> None:
    fake.grant_via_rbac(["Calendars.ReadWrite", "Mail.Send"])
    report = asyncio.run(check_graph(cfg(fake), FakeCredential([])))
    assert report.ok and report.missing == []
    text = report.text()
    assert "getSchedule answered: granted by Exchange RBAC for Applications" in text
    assert "unknown  book, update and cancel events" in text and "Test-ServicePrincipalAuthorization" in text


def test_unconfigured_settings_say_what_to_set() -> None:
    report = asyncio.run(check_graph(GraphConfig()))
    assert not report.ok
    text = report.text()
    assert "no Graph credentials are set" in text and "CPC_ORGANISER_MAILBOX" in text and "CPC_SENDER_MAILBOX" in text
    with pytest.raises(NotConfigured):
        build_credential(GraphConfig(tenant_id="t"))
    partial = GraphConfig(tenant_id="t", client_id="c").problems()
    assert any("incomplete Graph credentials" in p for p in partial)
    assert any("https" in p for p in GraphConfig(base_url="http://graph.example/v1.0").problems())


def test_credential_kinds_and_token_roles() -> None:
    assert GraphConfig(tenant_id="t", client_id="c", client_secret="s").credential_kind == "client_secret"
    assert GraphConfig(tenant_id="t", client_id="c", certificate_path="/x.pem").credential_kind == "certificate"
    assert GraphConfig(use_managed_identity=True).credential_kind == "managed_identity"
    secret = build_credential(GraphConfig(tenant_id="t", client_id="c", client_secret="s"))
    assert type(secret).__name__ == "ClientSecretCredential"
    asyncio.run(secret.close())
    assert token_roles(fake_token(["Mail.Send"])) == ("Mail.Send",)
    assert token_roles("not-a-jwt") == ()
