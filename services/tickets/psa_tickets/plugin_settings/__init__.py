"""Per-tenant plugin enablement and settings: stored here, validated by each plugin's schema."""
