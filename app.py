"""Heurist Studio, as `python app.py` and Hugging Face Spaces start it: see heurist_ui/app.py.

Installed with pip, the same start-up is the `heurist-studio` command.
"""

from heurist_ui.app import SANDBOX_KEY, build_app, main, parse_args

__all__ = ["SANDBOX_KEY", "build_app", "main", "parse_args"]

if __name__ == "__main__":
    main()
