"""Identity providers the IdP is a client of (FranceConnect). Below the journeys (they
use it), above the engine (its logout hook is a ProtocolAdapter); it imports neither
journeys nor the IdP's own protocol adapters (oidc/, saml/)."""
