"""J5: the charter of use, accepted before any service is reached."""
