"""WSGI entry point: `gunicorn wsgi:app` (or `idp serve`)."""
from idp import create_app

app = create_app()
