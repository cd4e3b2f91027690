"""Every setting the IdP reads, with its default and what it is for (the README's
settings table names the same keys). idp/config.py layers config/idp.toml, the IDP_*
environment and overrides on top of these, and validates the result."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict = {
    "ISSUER": "http://127.0.0.1:5000",
    # Links in emails are built from this, never from the Host header.
    "BASE_URL": None,
    # One secret per job (idp/secret_settings.py; README "Secrets"): none derives from
    # another. SECRET_KEY signs CSRF tokens; its former values, comma-separated, go in
    # SECRET_KEY_FALLBACKS while pages they signed may still come back.
    "SECRET_KEY": None,
    "SECRET_KEY_FILE": str(PROJECT_ROOT / "var" / "secret_key"),
    "SECRET_KEY_FALLBACKS": None,
    # Fernet keys sealing TOTP secrets, comma-separated: the first seals, all open.
    "TOTP_SEALING_KEYS": None,
    "TOTP_SEALING_KEYS_FILE": str(PROJECT_ROOT / "var" / "totp_sealing_keys"),
    # Keys the HMAC of SMS codes in the store (they live minutes: rotation is a change).
    "SMS_CODE_KEY": None,
    "SMS_CODE_KEY_FILE": str(PROJECT_ROOT / "var" / "sms_code_key"),
    # Salts pairwise `sub` and SAML persistent NameIDs: set once, never changed.
    "PAIRWISE_SALT": None,
    "PAIRWISE_SALT_FILE": str(PROJECT_ROOT / "var" / "pairwise_salt"),
    "DATABASE_URL": f"sqlite:///{PROJECT_ROOT / 'var' / 'idp.sqlite3'}",
    # Short-lived state: a redis:// URL, or the embedded store (a SQLite file shared by
    # every process of this machine, so `make run` with several processes stays correct).
    "REDIS_URL": None,
    "STORE_PATH": str(PROJECT_ROOT / "var" / "store.sqlite3"),
    "STORE_PREFIX": "idp:",  # Redis key prefix (tests use their own)
    # Redis behind Sentinel (idp/store/sentinel.py), instead of REDIS_URL: the sentinels
    # ("host:port,host:port": list them all) and the name of the master they monitor. An
    # operation waits up to REDIS_FAILOVER_SECONDS for a master during a failover, then 503.
    "REDIS_SENTINELS": None,
    "REDIS_SENTINEL_MASTER": "mymaster",
    "REDIS_FAILOVER_SECONDS": 10,
    # Signing keys live in the database (idp/keys/), private parts sealed with the
    # key-encryption key: Fernet keys, comma-separated, the first seals and all open (so
    # it rotates), the same on every node. Required outside a local issuer; locally it is
    # read from KEY_ENCRYPTION_KEY_FILE, made by `idp keys generate`.
    "KEY_ENCRYPTION_KEY": None,
    "KEY_ENCRYPTION_KEY_FILE": str(PROJECT_ROOT / "var" / "key_encryption_key"),
    "KEYS_DIR": str(PROJECT_ROOT / "keys"),  # a former keys/ directory: `idp keys import`
    "KEY_GRACE_DAYS": 7,
    "ACADEMIES_FILE": str(PROJECT_ROOT / "config" / "academies.toml"),
    # `idp demo load` writes the demo relying parties' client ids and secrets there (mode
    # 0600); the demo RPs in clients/ read it (their DEMO_CLIENTS_FILE / --clients-file).
    "DEMO_CLIENTS_FILE": str(PROJECT_ROOT / "var" / "demo_clients.json"),
    # Number of processes sharing this configuration (set by `idp serve --workers`).
    "WORKERS": 1,
    # Reverse proxies in front of each node (nginx: 1). Their X-Forwarded-For and
    # X-Forwarded-Proto give the client's address and scheme (idp/security/
    # client_address.py); with 0 no forwarded header is read.
    "TRUSTED_PROXIES": 0,
    # Prometheus multiprocess files (idp/metrics.py): `idp serve` and `idp worker` on one
    # machine write there and /metrics adds them up (a tmpfs such as /run/idp/metrics).
    "METRICS_DIR": str(PROJECT_ROOT / "var" / "metrics"),
    # Log lines as JSON objects (one per line) on stderr; false: plain text (idp/ops/logs.py).
    "LOG_JSON": True,
    "LOG_LEVEL": "INFO",
    # argon2id parameters (RFC 9106 second recommended option, tuned for this machine).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 1,
    # The sign-in waiting room (security/admission.py, issue 18). Per process: at most
    # SIGNIN_CONCURRENCY verifications at once (0: the cores per worker, bounded by half
    # the memory in argon2 buffers), SIGNIN_WAITERS more threads waiting (empty: three
    # times SIGNIN_CONCURRENCY, or a bounded room's share), each at most SIGNIN_WAIT_SECONDS;
    # then the 503 waiting page.
    # One client address holds at most max(SIGNIN_QUEUE_ADDRESS_MIN,
    # SIGNIN_QUEUE_ADDRESS_SHARE x length) places of the queue; a held sign-in (its
    # password sealed in the store, the key in the browser) lasts SIGNIN_HOLD_MINUTES.
    # SIGNIN_ADMISSION false: no waiting room (bench/storm.py compares both).
    "SIGNIN_ADMISSION": True,
    # A bounded waiting room (0: off, every family keeps its place): the queue holds what
    # the node lets in within SIGNIN_QUEUE_MAX_SECONDS; a newcomer finding it full gets no
    # place and a retry in SIGNIN_FULL_RETRY_SECONDS (to half as long again).
    "SIGNIN_QUEUE_MAX_SECONDS": 0,
    "SIGNIN_FULL_RETRY_SECONDS": 60,
    "SIGNIN_CONCURRENCY": 0,
    "SIGNIN_WAITERS": None,
    "SIGNIN_WAIT_SECONDS": 2.0,
    "SIGNIN_QUEUE_ADDRESS_SHARE": 0.1,
    "SIGNIN_QUEUE_ADDRESS_MIN": 5,
    "SIGNIN_QUEUE_GRACE_SECONDS": 0.05,  # a slot the queue's front leaves unused: anyone's
    "SIGNIN_HOLD_MINUTES": 10,
    # The waiting page reloads when the tickets ahead should be through, at most this
    # many seconds later (far back in a long queue: fewer reloads that only say "wait").
    "SIGNIN_RETRY_MAX": 20,
    # Sign-in verifications run in threads of this niceness (0: the request's own thread):
    # SSO, token and JWKS requests get the cores first, argon2 what is left.
    "SIGNIN_VERIFY_NICE": 19,
    # Sessions.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_COOKIE_SECURE": None,  # None: derived from the issuer scheme
    "PENDING_AUTHORIZATION_MINUTES": 30,
    # Administration console (/admin): staff sessions end sooner than families'.
    "STAFF_IDLE_MINUTES": 15,
    "STAFF_SESSION_HOURS": 8,
    # Brute force: failures before a growing delay, and its cap.
    "LOCKOUT_THRESHOLD": 5,
    "LOCKOUT_MAX_DELAY_SECONDS": 900,
    "LOCKOUT_ACCOUNT_THRESHOLD": 20,
    "LOCKOUT_IP_THRESHOLD": 100,
    "LOCKOUT_WINDOW_SECONDS": 3600,
    # Per IP (a school's NAT, a carrier's shared address): past LOCKOUT_IP_THRESHOLD
    # failures an hour the address is slowed, never blocked: at most this many seconds.
    "LOCKOUT_IP_MAX_DELAY_SECONDS": 10,
    # Device cookies (idp/security/device_cookies.py): a browser that proved an account
    # is not stopped by others' failures; its cookie lasts this long.
    "DEVICE_COOKIE_DAYS": 180,
    # A sign-in from a browser without a device cookie for the account sends a notice.
    "NEW_DEVICE_NOTICE": True,
    # OpenID Connect.
    "AUTHORIZATION_CODE_SECONDS": 60,
    "ACCESS_TOKEN_SECONDS": 600,
    "REFRESH_TOKEN_DAYS": 30,
    # PostgreSQL: the token endpoint's refresh-token writes (rotations, code redemptions)
    # do not wait for the WAL flush (what a database crash may cost:
    # idp/oidc/refresh_tokens.py, _insert).
    "REFRESH_ASYNC_COMMIT": True,
    "ID_TOKEN_SECONDS": 300,
    "BACKCHANNEL_LOGOUT_TIMEOUT": 3.0,
    # SAML 2.0 (idp/saml): attribute schema, assertion lifetime, request checks.
    "SAML_ATTRIBUTES_FILE": str(PROJECT_ROOT / "config" / "saml_attributes.toml"),
    "SAML_ASSERTION_MINUTES": 5,           # NotOnOrAfter (pysaml2 would say an hour)
    "SAML_REQUEST_MAX_AGE_SECONDS": 300,   # IssueInstant older than this is refused
    "SAML_CLOCK_SKEW_SECONDS": 60,         # tolerated clock difference with SPs
    "SAML_MAX_MESSAGE_BYTES": 65536,       # decoded (and inflated) request size cap
    "SAML_METADATA_VALID_HOURS": 168,      # validUntil of our signed metadata
    "SAML_METADATA_CERT": None,            # PEM file: SP metadata must be signed by it
    # Email delivery (idp/notify): "smtp" in production; "outbox" (the `make run` default)
    # keeps messages in the database, prints them from the worker and, with DEV_OUTBOX or
    # DEBUG, shows them at /dev/outbox.
    "EMAIL_BACKEND": "outbox",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
    "SMTP_FROM": "Connexion Scolarité <ne-pas-repondre@localhost>",
    "DEV_OUTBOX": False,
    "OUTBOX_MAX_ATTEMPTS": 8,          # then the message is marked failed
    "OUTBOX_RETRY_SECONDS": 30,        # first retry delay, doubled each time, 1 h at most
    "OUTBOX_KEEP_DAYS": 30,            # delivered/failed messages are purged after this
    "WORKER_POLL_SECONDS": 2,
    "WORKER_LIFECYCLE_MINUTES": 60,    # `idp worker` runs the lifecycle pass this often
    # School-issued accounts (idp/roster, idp/lifecycle.py).
    "ACTIVATION_WINDOW_DAYS": 92,      # 3 months from the letter to activate [seed 002]
    "ACTIVATION_REMINDER_DAYS": 30,    # reminder email this long before the deadline
    "DELETE_UNACTIVATED_DAYS": 365,    # never-activated accounts deleted a year after issue
    "BIRTH_DATE_MAX_FAILURES": 5,      # then the account waits for the school
    "ACTIVATION_RESEND_SECONDS": 60,   # "Renvoyer le message" at most this often
    # "Mes enfants" (idp/journeys/family): the pupils whose representatives may see the
    # identifier and set a temporary password. "1d": every pupil of a primary school
    # (School.level); other entries: class levels read from the start of the class name
    # ("6e", "5e", "4e", "3e": collège; a lycée class "2nde B" is not listed).
    "GUARDIAN_MANAGED_LEVELS": ["1d", "6e", "5e", "4e", "3e"],
    # Recovery and "Mon compte" (idp/journeys/recovery, account, second_factor).
    "PASSWORD_RESET_LINK_MINUTES": 60,  # reset link lifetime (SECURITY.md: 1 hour)
    "REAUTH_WINDOW_SECONDS": 300,       # sensitive changes: password typed this recently
    "RECOVERY_SENDS_PER_HOUR": 3,       # recovery messages per address/number/account
    "RECOVERY_REQUESTS_PER_IP_HOUR": 30,  # recovery forms per IP before slowing down
    "RECOVERY_IP_MAX_DELAY_SECONDS": 10,  # then one form per growing delay, capped to this
    # SMS (idp/security/sms_codes.py, idp/notify/sms_http.py) and self-registration J4.
    # The seeds say codes last 30 min; ASVS 6.5.5 says 10 (a code by SMS can be read over
    # a shoulder or on a lock screen): 10 by default, configurable.
    "SMS_CODE_MINUTES": 10,
    "SMS_CODE_MAX_ATTEMPTS": 3,         # wrong entries that kill a code
    "SMS_RESEND_SECONDS": 30,           # wait after an SMS to a number, doubled each time
    "SMS_MAX_PER_NUMBER_DAY": 5,        # SMS to one number per day (pumping, harassment)
    "SMS_MAX_PER_IP_HOUR": 20,          # SMS asked from one IP per hour before slowing
    "SMS_IP_MAX_DELAY_SECONDS": 60,     # then one SMS per growing delay, capped to this
    "SMS_MAX_PER_DAY": 20000,           # all SMS per day (a budget cap on the gateway)
    # None: the French regions' (security/mobile_numbers.PHONE_REGIONS: metropolitan and
    # overseas, +262 for Mayotte, not +269 the Comoros); a list narrows them.
    "SMS_COUNTRY_CODES": None,
    "SMS_BACKEND": "outbox",            # "http": the generic gateway below
    "SMS_GATEWAY_URL": None,
    "SMS_GATEWAY_TOKEN": None,          # sent as "Authorization: Bearer <token>"
    "SMS_GATEWAY_AUTH_HEADER": "Authorization",  # or e.g. "X-Api-Key" (raw token)
    # JSON body; "{to}" (E.164), "{to_digits}", "{text}" and "{id}" are filled in.
    "SMS_GATEWAY_BODY": '{"to": "{to}", "text": "{text}"}',
    "SMS_GATEWAY_TIMEOUT": 10,
    "SIGNUP_MINUTES": 30,               # a "Je n'ai pas de compte" journey lasts this long
    "SIGNUP_BIRTH_DATE_MAX_FAILURES": 3,  # then the family is sent to the school
    # FranceConnect (issue 19, idp/upstream/franceconnect): parents sign in with the
    # State's identity. The integration sandbox and production differ by these alone.
    "FRANCECONNECT_ENABLED": False,
    "FRANCECONNECT_DISCOVERY_URL": None,  # <FC>/api/v2/.well-known/openid-configuration
    "FRANCECONNECT_CLIENT_ID": None,
    "FRANCECONNECT_CLIENT_SECRET": None,
    "FRANCECONNECT_SCOPES": "openid given_name family_name birthdate gender birthplace "
                            "birthcountry email",
    "FRANCECONNECT_ACR": "eidas1",      # asked (acr_values) and the least accepted back
    "FRANCECONNECT_TIMEOUT": 5,         # seconds per call to FranceConnect
    "FRANCECONNECT_JWKS_SECONDS": 3600,  # JWKS kept this long (refetched on an unknown kid)
    "FRANCECONNECT_LINK_MINUTES": 30,   # a first link (SMS, birth dates) lasts this long
    "WTF_CSRF_TIME_LIMIT": None,  # bound to the session lifetime instead
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",  # dates shown to families (home page)
    "LANGUAGES": ["fr", "en"],
    "TESTING": False,
    "DEBUG": False,
}
