"""Send card kinds that typing cannot reach in the Agents Playground (panel declines and slots, which
need Outlook; reminders and notices, which the sweep sends when they fall due) into the Playground
user's chat, so that `make screenshots` sees every card kind as Teams would render it.

The cards are the bot's own, drawn by its views from the sample data the card tests use
(tests/unit/test_cards.py ``every_card``), and sent through the bot's edge to the conversation the
Playground user last wrote from (the stored conversation reference). Run with the bot's settings
(``CPC_DATABASE_URL``), after the user has written to the bot:

    .venv/bin/python tools/playground/gallery.py panel_decline reminder_dissent-decision_due_responsible
    .venv/bin/python tools/playground/gallery.py --list
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio

from app.cli_case import PLAYGROUND_USER
from app.procedures import load_catalogue
from app.settings import load_settings
from bot import edge
from store.sql import open_store
from tests.unit.test_cards import every_card


async def send(kinds: list[str]) -> int:
    cards = every_card(load_catalogue().areas)
    unknown = [k for k in kinds if k not in cards]
    if unknown:
        print(f"no card kind {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    settings = load_settings()
    store = open_store(settings.database_url, **settings.engine_options())
    reference = store.conversation_ref(PLAYGROUND_USER[0])
    store.close()
    if reference is None:
        print("the Playground user has not written to the bot yet", file=sys.stderr)
        return 1
    adapter = edge.make_adapter(settings)
    try:
        for kind in kinds:
            await edge.send_proactive(adapter, settings.app_id, reference, edge.card_activity(cards[kind]))
    finally:
        await edge.close(adapter)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="send sample cards into the Agents Playground user's chat")
    ap.add_argument("kinds", nargs="*")
    ap.add_argument("--list", action="store_true", help="print the card kinds and stop")
    args = ap.parse_args()
    if args.list or not args.kinds:
        print("\n".join(every_card(load_catalogue().areas)))
        return 0
    return asyncio.run(send(args.kinds))


if __name__ == "__main__":
    sys.exit(main())
