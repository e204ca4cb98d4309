"""The public API is what __all__ says, and every name in it exists."""

import importlib
import pkgutil

import pytest

import publisher


def test_top_level_all_is_sorted_and_importable() -> None:
    assert publisher.__all__ == sorted(publisher.__all__)
    for name in publisher.__all__:
        assert hasattr(publisher, name), name


MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(publisher.__path__, "publisher.")
    if m.name != "publisher.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"
