"""J5 consent: what a relying party will receive, agreed once per RP and claim set."""
