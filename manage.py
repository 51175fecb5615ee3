#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

It reads the same local environment files ``make run`` uses (``.env``, ``var/genesys.env``) when
they exist, so a command typed in a second terminal sees the running demo's settings; variables
set in the environment win. A bad setting prints one line and exits 2.
"""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genesys.settings")
    from genesys.env import env_files_load, settings_check_or_exit

    env_files_load(base_dir=Path(__file__).resolve().parent)
    settings_check_or_exit()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
