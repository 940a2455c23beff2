"""The service desk: boards, statuses, tickets, time entries, notes and the ticket's trail."""
