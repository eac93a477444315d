"""Checkout template pack for flowtime-sim."""
