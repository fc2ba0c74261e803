"""The composition root: settings, wiring and the ``cpc`` command line. Only this knows everything."""
