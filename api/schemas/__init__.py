"""Request and response schemas, separate from the domain types."""
