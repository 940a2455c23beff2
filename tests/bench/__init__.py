"""`make bench`: the tickets service under load next to a bare Flask baseline, on SQLite and PostgreSQL.

Not a timed test: it seeds a large tenant in bulk, serves both apps with the same gunicorn settings,
drives them with a bounded threaded client and writes `var/bench-results.md`.
"""
