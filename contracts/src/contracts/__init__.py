"""Nyprod's integration events: the only code every service shares about each other."""
