"""Timed-entry ticket types, slots, tickets and check-in."""
