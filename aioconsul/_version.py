"""The package version, in a module of its own so the transport can read it without importing
the package's ``__init__`` (which imports the transport)."""

__version__ = "0.1.0.dev0"
