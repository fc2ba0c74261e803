"""Adaptive Card 1.5 templates (JSON) and the one renderer that fills them."""
