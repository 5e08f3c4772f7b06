"""python -m pinbench"""

from .cli import run

run()
