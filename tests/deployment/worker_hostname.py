"""``[core] hostname_callable`` of the Celery test's workers: each "machine" reports its own name
(``ZOHOREL_TEST_HOSTNAME``), although both run on this host, so the test can tell where a task ran."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("ZOHOREL_TEST_HOSTNAME") or socket.getfqdn()
