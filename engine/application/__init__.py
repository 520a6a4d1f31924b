"""Application services: one method per use case, shared by every face."""
