"""Storage: how rows are locked, compared and set. Imports the models and the domain only."""
