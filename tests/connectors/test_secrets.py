"""Credentials come from an environment variable or a mounted secrets file the system's config names."""

import pytest

from connectors.errors import AuthFailed
from connectors.secrets import secret_read


def test_a_secret_from_the_environment_or_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_SECRET", "s3cret-from-env")
    mounted = tmp_path / "crm"
    mounted.write_text("s3cret-from-file\n")

    assert secret_read({"client_secret_env": "CRM_SECRET"}, "client_secret", platform="CRM") == "s3cret-from-env"
    assert secret_read({"client_secret_file": str(mounted)}, "client_secret", platform="CRM") == "s3cret-from-file"
    assert secret_read({}, "private_key", platform="ERP", required=False) is None


def test_a_missing_secret_says_where_it_was_looked_for_and_never_what_it_is(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_SECRET", raising=False)

    with pytest.raises(AuthFailed, match="CRM: environment variable CRM_SECRET is not set"):
        secret_read({"client_secret_env": "CRM_SECRET"}, "client_secret", platform="CRM")
    with pytest.raises(AuthFailed, match="secrets file for client_secret cannot be read"):
        secret_read({"client_secret_file": str(tmp_path / "absent")}, "client_secret", platform="CRM")
    with pytest.raises(AuthFailed, match="client_secret_env or client_secret_file"):
        secret_read({}, "client_secret", platform="CRM")
