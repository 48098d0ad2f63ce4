"""HTTP-level tests of the embedded dev agent (a package: its modules share names with
tests/client and import helpers from conftest)."""
