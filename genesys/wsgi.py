import os

from django.core.wsgi import get_wsgi_application

from genesys.env import settings_check_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genesys.settings")
settings_check_or_exit()  # a bad setting: one line naming it, exit 2

application = get_wsgi_application()
