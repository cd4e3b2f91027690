"""J4 "Je n'ai pas de compte": SMS-verified self-registration with guardian links
[seed 003]. views.py (pages), forms.py, service.py (rules), state.py (the transaction in
the store), matching.py (the school records), strength.py (password rules shown)."""
