"""HTTP edges of the tickets service: one blueprint per resource, thin views over plain functions."""
