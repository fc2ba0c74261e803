"""The pure domain of the conference challenge bot.

Standard library and ``holidays`` only: no I/O, no SDKs, no database. Adapters in ``store/``,
``bot/``, ``graph/`` and ``scheduler/`` translate at the edge and call in here.
"""
