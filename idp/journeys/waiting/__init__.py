"""The sign-in waiting room's pages (the rule itself: security/admission.py)."""
