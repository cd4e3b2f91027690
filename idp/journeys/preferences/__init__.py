"""J5 "Contact et préférences": the school record read-only, the email (changed only
through a confirmation link), the opt-in to notifications."""
