"""Committed timeline snapshots of every procedure pack; ``make snapshots`` regenerates them."""
