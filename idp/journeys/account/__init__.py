"""J6 signed in: "Scolarité Services" (/compte), the account page: identifier shown (it
never changes), password, email and mobile changes, security notices."""
