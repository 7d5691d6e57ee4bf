"""Platform credentials: never in the database, never logged.

A connected system's ``config`` names where each secret is, not the secret: ``<name>_env`` is an
environment variable, ``<name>_file`` a file (a Docker or Kubernetes secret mounted read-only), e.g.
``{"client_id_env": "SALESFORCE_CLIENT_ID", "client_secret_file": "/run/secrets/salesforce"}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.errors import AuthFailed


def secret_read(config: Mapping[str, Any], name: str, *, platform: str, required: bool = True) -> str | None:
    """The secret ``name`` (e.g. ``client_secret``) from where ``config`` says it is."""
    variable, path = config.get(f"{name}_env"), config.get(f"{name}_file")
    value = None
    if variable:
        value = os.environ.get(variable)
        where = f"environment variable {variable}"
    elif path:
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            raise AuthFailed(f"{platform}: the secrets file for {name} cannot be read ({exc.strerror})") from None
        where = f"secrets file for {name}"
    else:
        where = f"{name}_env or {name}_file in the system's config"
    if required and not value:
        raise AuthFailed(f"{platform}: {where} is not set")
    return value or None
