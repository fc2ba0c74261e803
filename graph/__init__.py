"""Microsoft Graph (calendar, mail) and the file outbox used when no tenant is configured."""
