"""Reading API and warehouse settings from Airflow connections (ids fixed by the product)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WAREHOUSE_CONN_ID = "warehouse_postgres"


@dataclass(frozen=True)
class ApiConnection:
    conn_id: str
    base_url: str
    token: str = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def require(self, key: str) -> str:
        value = self.extra.get(key)
        if value in (None, ""):
            raise ValueError(
                f"Airflow connection '{self.conn_id}' needs '{key}' in its extra field"
            )
        return str(value)

    def accounts(self, key: str) -> list[str]:
        """The ad accounts to read: the extra's list under ``<key>s`` (a JSON list or a
        comma-separated string), else its single ``<key>``."""
        listed = self.extra.get(f"{key}s")
        if isinstance(listed, str):
            listed = listed.split(",")
        if listed:
            accounts = [str(account).strip() for account in listed if str(account).strip()]
            if len(set(accounts)) != len(accounts):
                raise ValueError(
                    f"Airflow connection '{self.conn_id}' lists an account twice in '{key}s'"
                )
            return accounts
        return [self.require(key)]


def base_url_of(conn: Any, default: str) -> str:
    """An Airflow connection's base URL: its host when that is a whole URL, else built from
    schema (default https), host and port; ``default`` when it has no host."""
    host = conn.host or ""
    if "://" in host:
        return host.rstrip("/")
    if not host:
        return default
    scheme = conn.schema or "https"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}"


def api_connection(conn_id: str, default_base_url: str) -> ApiConnection:
    """Read an API connection: host is the base URL, password the token, extra the rest."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if not conn.password:
        raise ValueError(f"Airflow connection '{conn_id}' has no password (the API token)")
    return ApiConnection(
        conn_id, base_url_of(conn, default_base_url), conn.password, conn.extra_dejson or {}
    )


def warehouse_uri() -> str:
    """libpq URI of the warehouse from the Airflow connection ``warehouse_postgres``."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
    uri = conn.get_uri()
    return "postgresql://" + uri.split("://", 1)[1]
