"""gunicorn settings for a PSA Core service (threads, because requests mostly wait on the database)."""

import os

bind = os.environ.get("PSA_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("PSA_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PSA_THREADS", "8"))
timeout = 30
accesslog = "-"
forwarded_allow_ips = os.environ.get("PSA_TRUSTED_PROXIES", "127.0.0.1")
