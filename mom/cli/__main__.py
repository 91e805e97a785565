from mom.cli import run

run()
