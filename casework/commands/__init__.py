"""Command handlers, one module per process (cosmicpython's service layer)."""
