"""What several nextcall processes share: settings, models, database and Redis factories."""
