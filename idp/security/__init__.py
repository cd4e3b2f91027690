"""Passwords, brute-force throttling and HTTP security headers."""
