"""Infrastructure: settings, database and Redis factories, the job queue, metrics."""
