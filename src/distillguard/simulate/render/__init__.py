"""Renderers of request specs into the exact bodies of each API shape."""
