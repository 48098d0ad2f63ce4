"""Sphinx configuration of the aioconsul documentation.

Build it with ``sphinx-build -W -b html docs docs/_build/html``: ``-W`` turns every warning (a
broken reference, a missing file, a docstring autodoc cannot read) into an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aioconsul

project = "aioconsul"
author = "aioconsul developers"
copyright = "aioconsul developers"
release = aioconsul.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
]

# No intersphinx: the build must work offline. Unresolved references to outside names
# (aiohttp.ClientSession, datetime.timedelta) are left as plain text instead of failing.
nitpicky = False

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {
    "show-inheritance": True,
}

default_role = "py:obj"
primary_domain = "py"
highlight_language = "python3"

templates_path: list[str] = []
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]

html_theme = "furo"
html_title = f"aioconsul {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# The copy button leaves out the prompts of shell and doctest snippets.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True


def _coverage_table(app: Any, docname: str, source: list[str]) -> None:
    """Append the generated table to ``coverage.rst`` (see ``aioconsul/_coverage.py``)."""
    if docname != "coverage":
        return
    import asyncio

    from aioconsul import _coverage

    table = _coverage.load_endpoints(Path(__file__).parent / "_data" / "endpoints.tsv")
    result = _coverage.coverage(table, asyncio.run(_coverage.record()))
    source[0] += "\n" + _coverage.render(result)


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _coverage_table)
    return {"parallel_read_safe": True}
