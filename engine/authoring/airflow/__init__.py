"""Airflow's DAG-authoring surface, served to DAG files as the `airflow` package (see `finder`), over
ledgerflow's own DAG model: an Airflow DAG is a ledgerflow DAG, an operator a ledgerflow task."""
