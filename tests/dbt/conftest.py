"""The PostgreSQL warehouse the dbt tests read: the first night loaded, every model built and
tested once for the whole package (the tests only read it)."""

from __future__ import annotations

import pytest

from tests.warehouse_helpers import built_warehouse


@pytest.fixture(scope="session")
def built(server_uri, connections, tmp_path_factory):
    """A warehouse with the first night loaded and every dbt model built and tested."""
    with built_warehouse(server_uri, connections, tmp_path_factory.mktemp("dbt")) as uri:
        yield uri
