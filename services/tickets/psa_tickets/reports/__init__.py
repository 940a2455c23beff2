"""Read-only views over tickets and projects: the work queue, backlog and availability reports."""
