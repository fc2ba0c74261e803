"""Building the Microsoft Graph client from settings: app-only credentials and the base URL override.

Credentials, in order: a client secret (``ClientSecretCredential``), a certificate
(``CertificateCredential``), or managed identity (``DefaultAzureCredential``). The async credential
classes are used so that token requests never block the bot's event loop. The base URL defaults to
Graph v1.0; tests point it at a fake server on loopback (SDK-FACTS: "Pointing the SDK at a fake
server": no trailing slash, plain http only for localhost).

``msgraph`` and ``azure.identity`` are imported inside the functions: importing them costs about a
second cold (SDK-FACTS: Cost), and CLI commands that do not talk to Graph should not pay it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
#: Seconds; a request taking longer is abandoned and (where that is safe) retried.
DEFAULT_TIMEOUT = 60.0


class GraphSettings(Protocol):
    """The fields of ``app.settings.Settings`` this module reads (kept as a protocol: graph/ does not import app/)."""

    graph_tenant_id: str
    graph_client_id: str
    graph_client_secret: str
    graph_certificate_path: str
    graph_use_managed_identity: bool
    graph_base_url: str
    organiser_mailbox: str
    sender_mailbox: str


class NotConfigured(Exception):
    """No (or incomplete) Graph credentials: the caller should use the file outbox instead."""


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    certificate_path: str = ""
    use_managed_identity: bool = False
    base_url: str = DEFAULT_BASE_URL
    organiser: str = ""
    sender: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_settings(cls, s: GraphSettings) -> GraphConfig:
        return cls(
            tenant_id=s.graph_tenant_id.strip(),
            client_id=s.graph_client_id.strip(),
            client_secret=s.graph_client_secret,
            certificate_path=s.graph_certificate_path.strip(),
            use_managed_identity=bool(s.graph_use_managed_identity),
            base_url=(s.graph_base_url.strip() or DEFAULT_BASE_URL).rstrip("/"),
            organiser=s.organiser_mailbox.strip(),
            sender=s.sender_mailbox.strip(),
        )

    @property
    def credential_kind(self) -> str | None:
        """``client_secret``, ``certificate``, ``managed_identity`` or None (not configured)."""
        if self.tenant_id and self.client_id and self.client_secret:
            return "client_secret"
        if self.tenant_id and self.client_id and self.certificate_path:
            return "certificate"
        if self.use_managed_identity:
            return "managed_identity"
        return None

    @property
    def configured(self) -> bool:
        return self.credential_kind is not None

    def problems(self) -> list[str]:
        """What stops Graph being used, in words (empty when it can be)."""
        out: list[str] = []
        if not self.configured:
            if self.tenant_id or self.client_id or self.client_secret or self.certificate_path:
                out.append(
                    "incomplete Graph credentials: set CPC_GRAPH_TENANT_ID and CPC_GRAPH_CLIENT_ID with "
                    "CPC_GRAPH_CLIENT_SECRET or CPC_GRAPH_CERTIFICATE_PATH (or CPC_GRAPH_USE_MANAGED_IDENTITY=true)"
                )
            else:
                out.append("no Graph credentials are set (the file outbox is used)")
        if not self.organiser:
            out.append("CPC_ORGANISER_MAILBOX is not set (the mailbox whose calendar holds the bookings)")
        if not self.sender:
            out.append("CPC_SENDER_MAILBOX is not set (the shared mailbox digests and notices are sent from)")
        if self.base_url.startswith("http://") and not any(
            self.base_url.startswith(f"http://{h}") for h in ("127.0.0.1", "localhost", "[::1]")
        ):
            out.append("CPC_GRAPH_BASE_URL must use https (plain http is accepted for loopback only)")
        return out


def build_credential(cfg: GraphConfig) -> Any:
    """The async azure-identity credential the settings describe."""
    kind = cfg.credential_kind
    if kind == "client_secret":
        from azure.identity.aio import ClientSecretCredential

        return ClientSecretCredential(cfg.tenant_id, cfg.client_id, cfg.client_secret)
    if kind == "certificate":
        from azure.identity.aio import CertificateCredential

        return CertificateCredential(cfg.tenant_id, cfg.client_id, certificate_path=cfg.certificate_path)
    if kind == "managed_identity":
        from azure.identity.aio import DefaultAzureCredential

        return DefaultAzureCredential()
    raise NotConfigured("; ".join(cfg.problems()))


def build_client(cfg: GraphConfig, credential: Any = None) -> Any:
    """A ``GraphServiceClient`` on ``cfg.base_url`` with our timeout.

    ``credential`` overrides the one the settings describe: anything with an async
    ``get_token(*scopes, claims=None, tenant_id=None, enable_cae=False, **kw)`` returning an
    ``AccessToken`` will do (the tests use a fixed token).
    """
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_request_adapter import options as graph_options
    from msgraph.graph_service_client import GraphServiceClient
    from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]

    # httpx logs every request URL at INFO, and Graph URLs carry mailbox addresses: keep them out of logs.
    quiet = logging.getLogger("httpx")
    if quiet.getEffectiveLevel() < logging.WARNING:
        quiet.setLevel(logging.WARNING)
    cred = credential if credential is not None else build_credential(cfg)
    auth = AzureIdentityAuthenticationProvider(cred, scopes=[GRAPH_SCOPE])
    http = httpx.AsyncClient(timeout=httpx.Timeout(cfg.timeout, connect=min(cfg.timeout, 30.0)))
    http = GraphClientFactory.create_with_default_middleware(client=http, options=graph_options)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = cfg.base_url.rstrip("/")
    return GraphServiceClient(request_adapter=adapter)
