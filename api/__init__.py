"""The HTTP API: Airflow 3's public REST API (the subset DESIGN.md lists) and ledgerflow's own
additions, a face over the application service like the command line."""
