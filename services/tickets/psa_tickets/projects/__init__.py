"""Projects (phases and tasks with estimates), schedule entries, the work queue and capacity reports."""
