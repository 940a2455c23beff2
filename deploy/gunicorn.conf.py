"""gunicorn settings for a PSA Core service.

Threads where the databases are PostgreSQL: a request mostly waits on the server, and a worker's
other threads run meanwhile. On SQLite, processes only: its one writer at a time makes threads
queue anyway, and a thread holding the writer's turn competes for the GIL with its siblings
(docs/projects-and-reports.md: ticket creates 14-45 % faster at 2 workers x 1 thread than at 2 x 4).
"""

import os


def _on_postgresql() -> bool:
    urls = [value for key, value in os.environ.items() if key.startswith("PSA_") and key.endswith("_DATABASE_URL")]
    return bool(urls) and all(url.startswith("postgres") for url in urls)


# PORT: what Procfile runners (honcho, foreman, Heroku) give each process
bind = os.environ.get("PSA_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("PSA_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PSA_THREADS", "8" if _on_postgresql() else "1"))
timeout = 30
accesslog = "-"
forwarded_allow_ips = os.environ.get("PSA_TRUSTED_PROXIES", "127.0.0.1")
# Not used by PSA Core; every gunicorn on a host shares its default path, and the first to stop
# removes the socket the others made.
control_socket_disable = True
