"""Prospects service: owns prospects, their interests and bookings, and coordinates the booking saga."""
