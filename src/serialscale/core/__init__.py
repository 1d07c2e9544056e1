"""The engine: the compact step graph, every metric, the schedule, classification, growth
fitting, drag, what-if, compression, gates and the analysis that assembles a report. Pure:
graph in, numbers out; no I/O, no rendering."""
