"""Allow `python -m app` as an alias of the `stellwerk` command."""

from app.cli import main

main()
