"""Central's store by concern: schema, migrations, database (engine, writes, locks), accounts, tallies,
reads, cases and integrity."""
