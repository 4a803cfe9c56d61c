"""The Whoosh backend: one generational index folder on one machine (the default)."""
