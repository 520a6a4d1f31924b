"""The authoring API: DAGs, tasks, schedules, templates, and loading DAG files."""
