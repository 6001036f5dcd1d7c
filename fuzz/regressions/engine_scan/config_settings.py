import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = 'bcz-+7s6i)bf5g*xey)k5)-9c4nyb%5=eb%pjejz^zk6(361s_'

DEBUG = False
ALLOWED_HOSTS = ["billing.example.org"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "PASSWORD": os.environ["DB_PASSWORD"],
    }
}
