"""Administration: the console (later) and the services behind the `idp` commands."""


def _wsgi_app():
    from .. import create_app

    return create_app()
