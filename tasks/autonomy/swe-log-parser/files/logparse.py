"""Parser for the service log format v2 (see FORMAT.md)."""


def parse_log(text):
    """Parse a whole log (a str). Returns {"entries": [...], "malformed": N} as FORMAT.md says."""
    raise NotImplementedError
