"""School rosters: CSV import into school records and provisional accounts, identifiers,
notification letters with provisional passwords. Services flush, never commit; the CLI
(`idp roster ...`, admin/roster_commands.py) and the admin console commit."""
from .importer import ImportReport, UnknownSchool, find_school, import_roster
from .letters import LetterBatch, LetterError, issue_credentials, issue_letters
from .names import allocate_identifier, allocate_identifiers, identifier_stem

__all__ = ["import_roster", "ImportReport", "UnknownSchool", "find_school", "issue_letters",
           "issue_credentials", "LetterBatch", "LetterError", "allocate_identifier",
           "allocate_identifiers", "identifier_stem"]
