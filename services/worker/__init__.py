"""The worker process: RQ jobs and the scheduler tick (expired leases, cooldowns, wake-ups)."""
