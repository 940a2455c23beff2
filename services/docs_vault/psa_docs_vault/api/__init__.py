"""The vault's HTTP API: one module per resource."""
