"""Getting data in: media probing, and (as they land) batch jobs, importers and the worker."""
