from .intervals import parse_hhmm, format_hhmm, merge_intervals, free_slots

__all__ = ["parse_hhmm", "format_hhmm", "merge_intervals", "free_slots"]
