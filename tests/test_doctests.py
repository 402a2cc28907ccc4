"""The examples in the package's docstrings run as tests: they document behaviour, so they must hold."""

import doctest
import importlib
import pkgutil

import pytest

import rag

MODULES = sorted(m.name for m in pkgutil.walk_packages(rag.__path__, "rag.") if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
