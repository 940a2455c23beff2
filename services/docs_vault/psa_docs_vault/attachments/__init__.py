"""Files attached to configurations (license files, device configs), kept outside the database."""
