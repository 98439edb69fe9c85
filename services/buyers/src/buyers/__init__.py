"""Buyers service: owns the buyer copies of prospects and their links to booked units."""
