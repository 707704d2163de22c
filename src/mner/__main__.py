from mner.cli.main import app

app(prog_name="mner")
