"""Units service: owns projects, units, their status and its history."""
