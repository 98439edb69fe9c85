"""Topic names. One topic per publishing service; booking events are keyed by unit_id so that
everything about one unit lands on one partition and is handled in order."""

PROSPECTS = "prospects.events"
UNITS = "units.events"
BUYERS = "buyers.events"

ALL = (PROSPECTS, UNITS, BUYERS)

# Fixed at creation: the default partitioner hashes the key modulo the partition count, so
# changing it later would move a unit's events to another partition and break ordering.
PARTITIONS = 6


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
