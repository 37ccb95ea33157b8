"""statkit: tiny descriptive statistics helpers."""
from .core import mean, median, mode, variance, stdev, value_range

__all__ = ["mean", "median", "mode", "variance", "stdev", "value_range"]
__version__ = "0.3.1"
