"""APScheduler jobs: the reminder sweep, digests, invitation-response polling."""
