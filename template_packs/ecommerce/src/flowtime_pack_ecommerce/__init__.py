"""E-commerce template pack for flowtime-sim."""
