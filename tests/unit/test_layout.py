"""The layout rules of the code, checked by reading the source (``ast``) and by importing.

- ``import whoosh`` only under ``search/backends/whoosh/``, ``import xapian``
  only under ``search/backends/xapian/``;
- ``web/`` (the app, the CLI ``web/cli.py``, the server ``web/server.py``)
  imports from ``search`` only the names ``search.__all__`` exports;
- no module under ``search/`` or ``web/`` reads another module's ``_private``
  name: neither imports one nor reads one as an attribute of anything but
  ``self`` or ``cls`` (directly or through ``getattr``/``hasattr``), unless the
  module defines that name itself. Only ``search/backends/whoosh/internals.py``
  may read whoosh-reloaded's private names: it is the one place that depends
  on them;
- importing ``search`` loads neither Whoosh's writer and codec nor Xapian, and
  importing the Xapian backend loads no Whoosh module;
- no test imports a ``conftest`` (shared test code lives in ``tests/support``);
- no tracked text file holds a line of an unresolved merge (``<<<<<<<``, ``>>>>>>>``).

Each check lists every violation it finds, with file and line.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from support.commands import child_env
from support.corpora import REPO

SEARCH = REPO / "search"
WEB = REPO / "web"
WHOOSH_INTERNALS = SEARCH / "backends" / "whoosh" / "internals.py"
# Names with a leading underscore that are public API: os._exit, and the methods and
# fields of named tuples.
PUBLIC_UNDERSCORE_NAMES = {"_exit", "_replace", "_asdict", "_fields", "_field_defaults", "_make"}


def sources(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*.py"))


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    shown = path.relative_to(REPO) if REPO in path.parents else path
    return f"{shown}:{node.lineno}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, tree: ast.Module):
    """``(node, absolute module name)`` of every import in ``tree``, relative ones resolved;
    ``from x import y`` gives ``x`` and ``x.y`` (``y`` may be a module)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield node, module
            for alias in node.names:
                yield node, f"{module}.{alias.name}"
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
              and getattr(node.func, "id", getattr(node.func, "attr", None))
              in ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            yield node, node.args[0].value


def test_whoosh_and_xapian_are_imported_only_behind_their_doors():
    doors = {"whoosh": SEARCH / "backends" / "whoosh", "xapian": SEARCH / "backends" / "xapian"}
    found = []
    for path in sources(SEARCH, WEB):
        for node, module in imported_modules(path, parse(path)):
            top = module.split(".")[0]
            if top in doors and doors[top] not in path.parents:
                found.append(f"{where(path, node)}: imports {module}")
    assert found == [], "\n".join(["engine imports outside their backend package:", *found])


def test_web_and_the_cli_use_only_the_names_search_exports():
    import search

    exported = set(search.__all__)
    assert (WEB / "cli.py").exists() and (WEB / "server.py").exists()
    found = []
    for path in sources(WEB):
        tree = parse(path)
        bound_to_search = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "search":
                    found += [f"{where(path, node)}: from search import {alias.name}"
                              for alias in node.names if alias.name not in exported]
                elif node.module.startswith("search."):
                    found.append(f"{where(path, node)}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("search."):
                        found.append(f"{where(path, node)}: import {alias.name}")
                    elif alias.name == "search":
                        bound_to_search.add(alias.asname or "search")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound_to_search and node.attr not in exported):
                found.append(f"{where(path, node)}: search.{node.attr}")
    assert found == [], "\n".join(["web/ uses names search/__init__.py does not export:",
                                   *found])


def _private(name: str) -> bool:
    return (name.startswith("_") and not name.startswith("__")
            and name not in PUBLIC_UNDERSCORE_NAMES)


def _own_names(tree: ast.Module) -> set[str]:
    """Every name this module defines: functions, classes, arguments, assigned names and
    attributes (``self._cache = ...``), slots."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif (isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)):
            own.update(c.value for c in ast.walk(node.value)
                       if isinstance(c, ast.Constant) and isinstance(c.value, str))
    return own


def _own_object(node: ast.AST) -> bool:
    """``self``, ``cls`` or ``super()``: the object whose class this module may define."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


def private_reads(path: Path) -> list[str]:
    """Where the module at ``path`` reads a ``_private`` name of another module."""
    tree = parse(path)
    own = _own_names(tree)
    found = []
    for node in sorted((n for n in ast.walk(tree) if hasattr(n, "lineno")),
                       key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            found += [f"{where(path, node)}: imports {alias.name} from {source}"
                      for alias in node.names if _private(alias.name)]
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
              and _private(node.attr) and node.attr not in own
              and not _own_object(node.value)):
            found.append(f"{where(path, node)}: reads {ast.unparse(node)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value) and node.args[1].value not in own
              and not _own_object(node.args[0])):
            found.append(f"{where(path, node)}: reads {ast.unparse(node)}")
    return found


def test_the_private_name_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .other import _hidden, visible\n"
        "import os\n"
        "from whoosh.codec import whoosh3\n"
        "class Mine:\n"
        "    def __init__(self):\n"
        "        self._own = 1\n"
        "    def read(self, other, reader):\n"
        "        os._exit(0)\n"
        "        whoosh3.W3TermInfo._struct\n"
        "        getattr(reader, '_perdoc', None)\n"
        "        return self._own + other._own + reader._terms + super()._base\n",
        encoding="utf-8")
    found = [line.split(": ", 1)[1] for line in private_reads(sample)]
    assert sorted(found) == sorted([
        "imports _hidden from .other", "reads whoosh3.W3TermInfo._struct",
        "reads getattr(reader, '_perdoc', None)", "reads reader._terms"])


def test_no_module_reads_another_modules_private_names():
    found = []
    for path in sources(SEARCH, WEB):
        if path == WHOOSH_INTERNALS:
            continue  # the one module that reads whoosh-reloaded's internals
        found += private_reads(path)
    assert found == [], "\n".join(["private names of other modules read outside "
                                   "search/backends/whoosh/internals.py:", *found])


def loaded_modules(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_importing_search_loads_neither_whoosh_writer_and_codec_nor_xapian():
    modules = loaded_modules("import search")
    assert "search.engine" in modules  # the import did happen
    heavy = [m for m in modules if m in ("whoosh.writing", "xapian") or m.startswith(
        ("whoosh.writing.", "whoosh.codec", "xapian."))]
    assert heavy == []


def test_importing_the_xapian_backend_loads_no_whoosh_module():
    modules = loaded_modules("import search.backends.xapian.backend")
    assert "search.backends.xapian.backend" in modules and "xapian" in modules
    assert [m for m in modules if m == "whoosh" or m.startswith("whoosh.")] == []


def test_no_test_imports_a_conftest():
    found = []
    for path in sources(REPO / "tests"):
        for node, module in imported_modules(path, parse(path)):
            if module.split(".")[-1] == "conftest" or module.startswith("conftest"):
                found.append(f"{where(path, node)}: imports {module}")
    assert found == [], "\n".join(["tests import a conftest (use tests/support):", *found])


def test_no_tracked_file_holds_an_unresolved_merge():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode("utf-8").split("\0")
    found = []
    for name in filter(None, listed):
        path = REPO / name
        if path.suffix not in {".py", ".md", ".html", ".css", ".toml", ".json", ".txt", ".cfg",
                               ".yml", ".yaml", ""} or not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{number}" for number, line in enumerate(lines, 1)
                  if line.startswith(("<<<<<<< ", ">>>>>>> "))]
    assert not found, found
