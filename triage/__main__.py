from triage.cli.main import run

run()
