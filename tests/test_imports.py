"""Every module of ``kiosk`` and ``sync`` imports alone in a fresh interpreter; dependencies point one way."""

import json
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import kiosk
import sync

ROOT = Path(__file__).resolve().parent.parent

#: The kiosk's small core, used by the uploader and central: stdlib only, no web framework.
LIGHT_MODULES = ("kiosk.clock", "kiosk.chain", "kiosk.indices", "kiosk.settings")


def all_modules() -> list[str]:
    """Dotted names of every module and package under ``kiosk`` and ``sync``.

    ``__main__`` modules are left out: importing one runs the CLI.
    """
    names = []
    for package in (kiosk, sync):
        names.append(package.__name__)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                  if not info.name.endswith(".__main__")]
    return sorted(names)


def fresh_import(*modules: str) -> dict:
    """Import ``modules`` in order in a new interpreter; ``{"returncode", "stderr", "loaded": [module names]}``."""
    code = ("import importlib, json, sys\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    loaded = json.loads(done.stdout) if done.returncode == 0 else []
    return {"returncode": done.returncode, "stderr": done.stderr, "loaded": loaded}


def test_the_walk_finds_both_packages():
    names = all_modules()
    assert {"kiosk.app", "kiosk.outbox", "kiosk.store", "sync.wire", "sync.uploader"} <= set(names)


def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = all_modules()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(names, pool.map(fresh_import, names), strict=True))
    failed = {name: result["stderr"].strip().splitlines()[-1:] for name, result in results.items()
              if result["returncode"] != 0}
    assert failed == {}


def test_the_kiosk_package_imports_nothing_from_sync():
    kiosk_modules = [name for name in all_modules() if name.split(".")[0] == "kiosk"]
    result = fresh_import(*kiosk_modules)
    assert result["returncode"] == 0, result["stderr"]
    assert [name for name in result["loaded"] if name.split(".")[0] == "sync"] == []


def test_the_kiosk_core_loads_no_flask():
    for name in LIGHT_MODULES + ("kiosk",):
        result = fresh_import(name)
        assert result["returncode"] == 0, result["stderr"]
        heavy = [loaded for loaded in result["loaded"] if loaded.split(".")[0] in {"flask", "werkzeug", "sync"}]
        assert heavy == [], name


def test_create_app_is_still_importable_from_the_package():
    result = fresh_import("kiosk")
    assert "kiosk.app" not in result["loaded"]
    from kiosk import create_app

    assert create_app.__module__ == "kiosk.app"
