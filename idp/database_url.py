"""IDP_DATABASE_URL as SQLAlchemy reads it.

Operators write libpq URLs: `postgresql://user@host/db`, and for a primary with standbys
several hosts, `postgresql://user@h1:5432,h2:5432/db?target_session_attrs=read-write`,
which libpq tries in order, keeping the first that accepts writes. SQLAlchemy's URL parser
takes one host only (`h1:5432,h2:5432` fails as a port), so such a URL is rewritten to
the form its psycopg dialect hands to libpq unchanged: no host in the authority, and
`host=h1,h2&port=5432,5432` in the query (an empty port: libpq's default). Every other
query parameter (target_session_attrs, connect_timeout, sslmode, options...) goes to libpq
as written. `postgresql://` means psycopg 3 (`postgresql+psycopg://`).
"""
from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy.engine import URL


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL for an IDP_DATABASE_URL (SQLite, or PostgreSQL with one or
    several hosts), as a string. ValueError, with the reason, for a host list it cannot
    read."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    if not scheme.startswith("postgresql") or "," not in authority.rpartition("@")[2]:
        return url
    parts = urlsplit(url)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = zip(*(_host_port(item) for item in hostlist.split(",")))
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in ("host", "port"):
            raise ValueError(f"database URL names its hosts twice (in the address and "
                             f"'{name}=' in the query): keep one")
        values.setdefault(name, []).append(value)
    query = {name: found[0] if len(found) == 1 else tuple(found)
             for name, found in values.items()}
    query["host"] = ",".join(hosts)
    if any(ports):
        query["port"] = ",".join(ports)
    return URL.create(scheme, username=unquote(user) or None,
                      password=unquote(password) if password else None,
                      database=unquote(parts.path.lstrip("/")) or None,
                      query=query).render_as_string(hide_password=False)


def _host_port(item: str) -> tuple[str, str]:
    """`host`, `host:port` or `[v6]:port` -> (host, port or "")."""
    item = item.strip()
    if item.startswith("["):
        host, _, after = item[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
    else:
        host, _, port = item.partition(":")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"database URL: cannot read the host {item!r} of its host list "
                         f"(write host:port,host:port)")
    return unquote(host), port
