"""The `tfxgate` command: parses arguments and calls the layers below (main.py; governance verbs in governance.py)."""
