"""The host's own plugins. Each module is registered exactly like an installed pack."""
