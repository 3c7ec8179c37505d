"""``python -m kspec`` runs the command line."""

from cli import main

main()
