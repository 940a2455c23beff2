"""PSA Core tickets service: the directory (tenants, members, grants, clients, contacts),
the token issuer, and service requests."""
