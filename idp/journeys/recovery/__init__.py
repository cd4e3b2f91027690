"""J6 signed out: "Identifiant oublié ?" and "Mot de passe oublié ?" [seeds 001, 002, 004]."""
