"""J4b « S'identifier avec FranceConnect » (issue 19): the button, FranceConnect's answer,
the first link to the school records (a sub-plan: mobile, SMS code, birth dates) and the
account pages of a FranceConnected account."""
