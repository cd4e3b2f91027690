"""New-device notice (issue 17, point 5): a sign-in from a browser the family never used
tells the family, with a "Ce n'était pas moi" link (service.py, views.py)."""
