"""J5: a relying party's one-time notice (PRONOTE's "j'ai pris connaissance de ces
informations"), acknowledged once per account and version."""
