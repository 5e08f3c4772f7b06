"""The lowest layer: errors, output files, statistics, shapes, the machine's environment and
arrival schedules. Nothing here imports any other part of pinbench."""
