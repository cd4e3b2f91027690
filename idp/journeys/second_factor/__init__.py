"""Families' optional second factor: TOTP enrolment from "Mon compte", the sign-in step,
recovery codes, disabling (security/totp.py does the cryptography)."""
