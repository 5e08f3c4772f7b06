"""The public API stays what __all__ says, whichever submodules were imported first."""

from __future__ import annotations

from subproc import run_python


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    # Importing a submodule binds it as an attribute of the package: a submodule named like a
    # public function would replace that function for every later caller.
    r = run_python(
        """
        import importlib, pkgutil, types
        import pinbench
        for info in pkgutil.walk_packages(pinbench.__path__, "pinbench."):
            if info.name != "pinbench.__main__":  # importing it runs the CLI
                importlib.import_module(info.name)
        bad = [n for n in pinbench.__all__ if isinstance(getattr(pinbench, n), types.ModuleType)]
        print(bad)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
