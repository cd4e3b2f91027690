"""IDP_DATABASE_URL with several PostgreSQL hosts (idp/database_url.py): rewritten for
SQLAlchemy so that libpq gets the whole host list and its parameters. On the PostgreSQL
run, the test server is named twice, behind an address where nothing listens: libpq moves
on, and the app works through it (target_session_attrs=read-write keeps the host that
accepts writes)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from idp import create_app
from idp.config import ConfigError, load, validate
from idp.database_url import sqlalchemy_url
from idp.db import make_engine

from tests.support.served import free_port


@pytest.mark.parametrize("url, expected", [
    ("sqlite:////tmp/idp.sqlite3", "sqlite:////tmp/idp.sqlite3"),
    ("postgresql://u@db.example:5432/idp", "postgresql+psycopg://u@db.example:5432/idp"),
    ("postgresql+psycopg://u@h/idp?sslmode=require",
     "postgresql+psycopg://u@h/idp?sslmode=require"),
])
def test_one_host_is_passed_as_written(url, expected):
    assert sqlalchemy_url(url) == expected


def test_several_hosts_become_libpq_host_and_port_lists():
    url = make_url(sqlalchemy_url(
        "postgresql://idp:p%40ss@h1:5432,h2,[::1]:5433/idp?target_session_attrs=read-write"
        "&connect_timeout=3&options=-csearch_path%3Dx"))
    assert url.drivername == "postgresql+psycopg" and url.host is None
    assert (url.username, url.password, url.database) == ("idp", "p@ss", "idp")
    assert url.query == {"host": "h1,h2,::1", "port": "5432,,5433",
                         "target_session_attrs": "read-write", "connect_timeout": "3",
                         "options": "-csearch_path=x"}
    # What psycopg is handed (libpq's keywords).
    args = make_engine(str(sqlalchemy_url("postgresql://u@h1:1,h2:2/idp"))).dialect \
        .create_connect_args(make_url(sqlalchemy_url("postgresql://u@h1:1,h2:2/idp")))[1]
    assert (args["host"], args["port"], args["dbname"]) == ("h1,h2", "1,2", "idp")


@pytest.mark.parametrize("url, error", [
    ("postgresql://u@h1:x,h2/idp", "cannot read the host 'h1:x'"),
    ("postgresql://u@h1,:5432/idp", "cannot read the host ':5432'"),
    ("postgresql://u@h1,h2/idp?host=h3", "names its hosts twice"),
])
def test_an_unreadable_host_list_is_refused_at_start_up_in_one_line(settings, tmp_path, url,
                                                                       error):
    with pytest.raises(ConfigError, match=error):
        validate(load({**settings, "DATABASE_URL": url},
                      environ={"IDP_CONFIG": str(tmp_path / "none.toml")}))


def _twice(url: str) -> str:
    """The test server's URL with a dead address before it in the host list."""
    scheme, rest = url.split("://", 1)
    user, _, after = rest.rpartition("@")
    hostport, _, tail = after.partition("/")
    return f"{scheme}://{user}@127.0.0.1:{free_port()},{hostport}/{tail}" + \
        ("&" if "?" in tail else "?") + "target_session_attrs=read-write"


def test_the_app_works_through_a_host_list_that_starts_with_a_dead_address(settings):
    if not settings["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL only (the PostgreSQL + Redis run)")
    url = _twice(settings["DATABASE_URL"])
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT NOT pg_is_in_recovery()")).scalar() is True
        # The run's private schema (options=-csearch_path in the query) still applies.
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        assert schema.startswith("test_")
    engine.dispose()
    app = create_app({**settings, "DATABASE_URL": url})
    response = app.test_client().get("/oidc/jwks")  # keys read from the database
    assert response.status_code == 200 and response.json["keys"]
