"""The command line: the Typer app (``app``), what each command does (``commands``), option
parsing, configuration files (``config``) and writing results (``output``). The top layer:
nothing else in serialscale imports it."""
