"""Forced password change (issue 17, point 3): the campaigns (service.py) and the sign-in
step that asks a forced family for a new password (views.py)."""
