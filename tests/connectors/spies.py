"""Watching which path an emulator's query took."""

from typing import Any

import pytest


def fast_path_spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """Wrap ``module.name`` (a fast path that answers None when it does not apply): for each call, whether it
    answered (True) or left the query to the general path (False)."""
    answered: list[bool] = []
    fast = getattr(module, name)

    def spy(*args: Any) -> Any:
        found = fast(*args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(module, name, spy)
    return answered
