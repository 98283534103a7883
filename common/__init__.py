"""The words every layer shares: finding codes and their sentences, the enums of kinds, roles and
states, and the one exception root. Imports nothing else from the project, so `parsers/`, `store/`,
`ingest/` and `reports/` (and a web view that must not import `parsers/`) can all use it."""
