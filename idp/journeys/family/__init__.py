"""J7 "Mes enfants" and the family's own data (issue 20): a legal representative acts on
the accounts of the pupils linked to them, downloads their data, closes a self-registered
account."""
