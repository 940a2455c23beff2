"""PSA Core docs vault: configurations, attachments and credentials per client, each reveal audited."""
