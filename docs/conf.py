"""Sphinx configuration of the aioconsul documentation.

Build it with ``sphinx-build -W -b html docs docs/_build/html``: ``-W`` turns every warning (a
broken reference, a missing file, a docstring autodoc cannot read) into an error.
"""

from __future__ import annotations

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
