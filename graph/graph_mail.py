"""The mail port on Microsoft Graph: ``users/{sender}/sendMail`` from the shared mailbox.

One attempt per call, with the SDK's retry handler off: a ``sendMail`` retried after a 503 can send
the message twice (SDK-FACTS: Retries). Failures are classified for :class:`graph.mail_queue.MailOutbox`,
which retries by idempotency key: 429 → :class:`MailThrottled` with the Retry-After; 502/503/504, a
timeout or a dropped connection → :class:`MailTransient`; anything else → :class:`MailRejected`.
Each message carries its key as an ``x-cpc-idempotency-key`` Internet header, so that a copy sent
twice after an unknowable failure can be recognised in the mailbox.
"""

from __future__ import annotations

import logging
from typing import Any

from casework.ports_graph import MailRejected, MailThrottled, MailTransient, OutgoingEmail
from graph.retry import describe, is_transient, no_sdk_retry, retry_after_of, status_of

log = logging.getLogger("cpc.graph")

IDEMPOTENCY_HEADER = "x-cpc-idempotency-key"
DEFAULT_THROTTLE_WAIT = 30.0


class GraphMailer:
    def __init__(self, client: Any, sender: str, save_to_sent_items: bool = True) -> None:
        if not sender:
            raise MailRejected("set CPC_SENDER_MAILBOX: the shared mailbox digests and notices are sent from")
        self.client = client
        self.sender = sender
        self.save_to_sent_items = save_to_sent_items

    def _body(self, email: OutgoingEmail) -> Any:
        from msgraph.generated.models.body_type import BodyType
        from msgraph.generated.models.email_address import EmailAddress
        from msgraph.generated.models.internet_message_header import InternetMessageHeader
        from msgraph.generated.models.item_body import ItemBody
        from msgraph.generated.models.message import Message
        from msgraph.generated.models.recipient import Recipient
        from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

        if email.html is not None:
            body = ItemBody(content_type=BodyType.Html, content=email.html)
        else:
            body = ItemBody(content_type=BodyType.Text, content=email.text)
        message = Message(
            subject=email.subject,
            body=body,
            to_recipients=[Recipient(email_address=EmailAddress(address=a)) for a in email.to],
            internet_message_headers=[InternetMessageHeader(name=IDEMPOTENCY_HEADER, value=email.key)],
        )
        return SendMailPostRequestBody(message=message, save_to_sent_items=self.save_to_sent_items)

    async def send(self, email: OutgoingEmail) -> str:
        if not email.to:
            raise MailRejected(f"message {email.key} has no recipient")
        try:
            await self.client.users.by_user_id(self.sender).send_mail.post(
                self._body(email), request_configuration=no_sdk_retry()
            )
        except Exception as exc:
            status = status_of(exc)
            log.warning("graph sendMail %s failed: %s", email.key, describe(exc))
            if status == 429:
                after = retry_after_of(exc)
                raise MailThrottled(after if after is not None else DEFAULT_THROTTLE_WAIT, describe(exc)) from exc
            if is_transient(exc):
                raise MailTransient(describe(exc)) from exc
            raise MailRejected(describe(exc)) from exc
        return f"graph:{email.key}"
