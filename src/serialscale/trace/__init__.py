"""Tracing Python functions: traced values, tasks and the recorder."""

from .api import input, inputs, op, run_traced, task
from .recorder import Recorder
from .values import Traced

__all__ = ["Recorder", "Traced", "input", "inputs", "op", "run_traced", "task"]
