"""The public API is exactly what ``__all__`` says, and it says it in order."""

from __future__ import annotations

import ai_disclosure


def test_all_is_sorted_and_importable() -> None:
    names = ai_disclosure.__all__
    assert names == sorted(names, key=lambda n: (not n[0].isupper(), n.lower()))
    for name in names:
        assert hasattr(ai_disclosure, name), name


def test_every_public_class_and_function_is_exported() -> None:
    public = {
        name
        for name, value in vars(ai_disclosure).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", "").startswith("ai_disclosure")
    }
    assert public == set(ai_disclosure.__all__) - {"__version__"}


def test_exported_members_say_where_they_belong() -> None:
    for name in ai_disclosure.__all__:
        value = getattr(ai_disclosure, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"
