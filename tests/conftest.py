"""Fixtures come from the psa_shared and psa_tickets pytest plugins (installed with the dists)."""
