"""Sources turn input (files, standard input, traced functions) into a :class:`Workload`.

They own every input error and its location; nothing downstream re-validates input.
"""

from .yaml_source import load_workload, parse_workload

__all__ = ["load_workload", "parse_workload"]
