"""HTTP API routers, one per feature, mounted under /api/v1."""
