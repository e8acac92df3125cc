"""The test suite's settings: the project's own, in development mode unless the caller says otherwise.

DEBUG defaults to off (production), so the suite asks for development mode here, before the settings
load: pytest-django reads settings before any conftest runs. Processes the tests start inherit it.
Production's refusals are tested in subprocesses with DEBUG=0 (tests/config/test_settings.py).
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
# Uploads and the demo's keys go to a directory of this test run, never the checkout's media/: two runs
# at once (SQLite and PostgreSQL) would overwrite each other's demo keys. The server processes the
# browser tests start inherit it through the environment.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bidhall-test-media-"))

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

# Tests drive hundreds of API calls a second as one user (the permission matrices call every route);
# production's rates would answer 429 to most of them and hide what they check. Throttling itself is
# tested with production's rates (tests/config/test_throttling.py).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(("user", "anon", "auth"), "100000/second"),
}

# The workflow tests act with the password session alone; tests/signing (and every test that sets
# SIGNING_PASSWORD_FALLBACK=[] through the settings fixture) prove that production refuses it.
SIGNING_PASSWORD_FALLBACK = ["all"]
