"""The layout is the architecture: which layer may import which, checked on the source itself.

Data flows one way (source → raw store → parse → record → place → judge → reply/report), so a lower
layer never imports a higher one; `common/` is the vocabulary all of them share.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("common", "parsers", "store", "ingest", "reports")

# layer -> project modules it must not import (prefix match on the dotted name after "mailintake.")
FORBIDDEN = {
    "common": ("parsers", "store", "ingest", "reports"),
    "parsers": ("store", "ingest", "reports"),
    "store": ("ingest", "reports", "parsers"),
    "reports": ("parsers", "ingest"),
}
ALLOWED = {"reports": ("ingest.config",)}  # the config types are the one thing reports take from ingest


def project_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return [n.removeprefix("mailintake.") for n in names if n.startswith("mailintake.")]


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_a_layer_imports_nothing_from_the_layers_above_it(layer):
    wrong = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in project_imports(path):
            allowed = any(name == a or name.startswith(a + ".") for a in ALLOWED.get(layer, ()))
            if not allowed and any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                wrong.append(f"{path.relative_to(ROOT)} imports mailintake.{name}")
    assert wrong == []


def test_every_import_of_the_project_goes_through_the_mailintake_namespace():
    bare = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").split(".")[0] in LAYERS):
                    bare.append(f"{path.relative_to(ROOT)}: from {'.' * node.level}{node.module or ''}")
    assert bare == []
