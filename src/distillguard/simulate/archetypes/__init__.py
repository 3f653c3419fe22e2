"""The legitimate archetypes, grouped by who runs them (people, builders, services)."""
