"""One base for every error the package raises, with each one's former base kept."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import ai_disclosure
from ai_disclosure import AIDisclosureError, HeaderError, ManifestError, RegistryError
from ai_disclosure._aggregate import DecisionLogDisabled
from ai_disclosure._encoding import DecodeError
from ai_disclosure._spool import SpoolError
from ai_disclosure.registry.problems import Problem


def _public_exceptions() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for module in pkgutil.walk_packages(ai_disclosure.__path__, "ai_disclosure."):
        # __main__ runs the command line; Alembic's env.py runs only under Alembic.
        if module.name.endswith("__main__") or ".migrations" in module.name:
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("ai_disclosure")
                and not name.startswith("_")
            ):
                found.add(value)
    return found


def test_every_public_exception_of_the_package_is_an_ai_disclosure_error() -> None:
    found = _public_exceptions()
    assert {ManifestError, HeaderError, RegistryError, SpoolError, Problem} <= found
    assert {e.__name__ for e in found if not issubclass(e, AIDisclosureError)} == set()


@pytest.mark.parametrize(
    ("error", "former"),
    [
        (ManifestError, ValueError),
        (HeaderError, ValueError),
        (DecisionLogDisabled, RuntimeError),
        (RegistryError, Exception),
        (SpoolError, Exception),
        (DecodeError, Exception),
        (Problem, Exception),
    ],
)
def test_each_keeps_the_base_it_had(error: type[Exception], former: type[Exception]) -> None:
    assert issubclass(error, AIDisclosureError)
    assert issubclass(error, former)


def test_one_except_clause_catches_a_manifest_error() -> None:
    with pytest.raises(AIDisclosureError) as caught:
        ai_disclosure.load_manifest({"service": {}, "systems": []})
    assert isinstance(caught.value, ManifestError)
    assert isinstance(caught.value, ValueError)


def test_one_except_clause_catches_a_header_error() -> None:
    with pytest.raises(AIDisclosureError):
        ai_disclosure.parse_header("mode=made-up")
