"""Central's staff pages, one blueprint per area: auth (login, scoping), summary, cases, exports, trends."""
