"""Readers of other tools' step graphs: GitHub Actions, GitLab CI, ninja and Graphviz DOT. Each
turns its input into a :class:`~serialscale.sources.step_plan.StepPlan` with located errors;
:mod:`serialscale.sources.registry` detects which one reads a file."""
