"""Central: the department's server (ingest and reading API, staff pages, store, rules)."""
