"""The ``kspec`` command line (the project layout's entry point); the verbs live in :mod:`kspec.cli`."""

from kspec.cli import main

if __name__ == "__main__":
    main()
