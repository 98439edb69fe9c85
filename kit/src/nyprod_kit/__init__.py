"""Service plumbing shared by prospects, units and buyers.

It holds no domain knowledge: the transactional outbox, the idempotent inbox, the consumer
loop with its dead-letter topic, health checks and process start-up are the same in every
service, so they live once here instead of three times.
"""
