"""Where the tools find what they ship beside their code: the schema (``sql/``), the examples and
``supabase/compat.sql``.

Run from a checkout (``PYTHONPATH=plpython``, as make and the tests do, or an editable install, as
``make`` makes) these are the checkout's own top-level folders. An installed package (``pip install .``)
carries them as package data of ``receptor_planner_tools`` (``pyproject.toml`` maps them there), read
with ``importlib.resources``.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ABOVE = _HERE.parents[1]
# The checkout these tools run from (its plpython/ holds them), or None when they are an installed package.
CHECKOUT: Path | None = (_ABOVE if _HERE.parent.name == "plpython" and (_ABOVE / "pyproject.toml").is_file()
                         and (_ABOVE / "sql").is_dir() else None)


def data_path(*parts: str) -> Path:
    """A shipped file or folder: ``data_path("sql")``, ``data_path("examples", "metro-pgy1.json")``,
    ``data_path("supabase", "compat.sql")``; the same names in a checkout and in an installed package."""
    if CHECKOUT is not None:
        return CHECKOUT.joinpath(*parts)
    # a package installed as files (pip never installs one zipped): files() is a pathlib.Path
    return Path(resources.files(__package__).joinpath(*parts))
