"""Refusing what ledgerflow does not run: one line naming the import or feature, and what is supported."""

from __future__ import annotations

from ledgerflow.engine.errors import DagDefinitionError

SUPPORTED = ("ledgerflow runs Airflow's core authoring surface: DAG, @dag, @task (.bash, .branch, .short_circuit, "
             ".sensor), Bash/Python/Branch/ShortCircuit/Empty/LatestOnly operators, "
             "Python/Bash/TimeDelta/DateTime sensors in poke mode, BaseOperator subclasses, built-in timetables, "
             "TaskGroup, "
             "XCom, Param, Variable, Connection, TriggerRule, chain, cross_downstream, macros")


class UnsupportedAirflowFeature(DagDefinitionError, ImportError):
    """An ImportError too, so a DAG file's own `except ImportError` fallback still works."""


def unsupported_import(name: str) -> UnsupportedAirflowFeature:
    return UnsupportedAirflowFeature(f"unsupported import {name}: {SUPPORTED}")


def unsupported_feature(what: str) -> UnsupportedAirflowFeature:
    return UnsupportedAirflowFeature(f"{what} is not supported: {SUPPORTED}")
