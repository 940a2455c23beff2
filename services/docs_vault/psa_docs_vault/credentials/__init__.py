"""Per-client credentials: metadata in the clear, the secret encrypted, every reveal audited."""
