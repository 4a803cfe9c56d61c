"""``python -m web``: the ``newssearch`` command."""

from .cli import main

main()
