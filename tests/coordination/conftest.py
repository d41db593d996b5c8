"""Fixtures for the coordination operations."""

from __future__ import annotations

import pytest

from server.coordination import install


@pytest.fixture
def coordination(server):
    """The coordination listeners on the shared server (wired by create_app once integrated)."""
    before = list(server.ctx.store.listeners)
    install(server.ctx.store, server.ctx.settings)
    yield server
    server.ctx.store.listeners[:] = before
