"""What each `airflow...` module a DAG file may import holds, at its Airflow 2 and Airflow 3 paths."""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

from ledgerflow.engine.authoring.airflow import mode
from ledgerflow.engine.authoring.airflow.unsupported import unsupported_import


def _core() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow import dag, groups, operators, params, standard, taskflow, variables
    from ledgerflow.engine.authoring.airflow.context_access import get_current_context
    from ledgerflow.engine.authoring.airflow.trigger_rule import TriggerRule

    return {
        "DAG": dag.DAG, "dag": dag.dag, "task": taskflow.task, "task_group": groups.task_group,
        "TaskGroup": groups.TaskGroup, "Label": groups.Label, "BaseOperator": operators.BaseOperator,
        "chain": groups.chain, "cross_downstream": groups.cross_downstream, "chain_linear": groups.chain_linear,
        "Param": params.Param, "ParamsDict": params.ParamsDict, "Variable": variables.Variable,
        "Connection": variables.Connection, "BaseHook": variables.BaseHook, "TriggerRule": TriggerRule,
        "XComArg": taskflow.XComArg, "get_current_context": get_current_context,
        "BashOperator": standard.BashOperator, "PythonOperator": standard.PythonOperator,
        "BranchPythonOperator": standard.BranchPythonOperator,
        "ShortCircuitOperator": standard.ShortCircuitOperator, "EmptyOperator": standard.EmptyOperator,
        "DummyOperator": standard.EmptyOperator, "LatestOnlyOperator": standard.LatestOnlyOperator,
        **_sensors(),
    }


def _sensors() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow import sensors

    return {n: getattr(sensors, n) for n in ("BaseSensorOperator", "PokeReturnValue", "PythonSensor", "BashSensor",
                                             "TimeDeltaSensor", "DateTimeSensor")}


def _timetables(*names: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        from ledgerflow.engine.authoring.airflow.timetables import NAMES

        return {n: NAMES[n] for n in names}

    return build


def _pick(*names: str) -> Callable[[], dict[str, Any]]:
    return lambda: {n: v for n, v in _core().items() if n in names}


def _dummy() -> dict[str, Any]:
    if mode.current() == 3:
        raise unsupported_import("airflow.operators.dummy (DummyOperator is gone in Airflow 3: use EmptyOperator)")
    return _pick("DummyOperator")()


def _exceptions() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow.exceptions import NAMES

    return dict(NAMES)


def _dates() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow.dates import days_ago

    return {"days_ago": days_ago}


def _timezone() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow import dates

    return {n: getattr(dates, n) for n in ("datetime", "utcnow", "utc", "convert_to_utc", "make_aware", "parse")}


def _macros() -> dict[str, Any]:
    from ledgerflow.engine.authoring.macros import MACROS

    return dict(MACROS)


def _context() -> dict[str, Any]:
    from ledgerflow.engine.authoring.airflow.context_access import get_current_context

    return {"Context": dict, "get_current_context": get_current_context}


_PY = ("PythonOperator", "BranchPythonOperator", "ShortCircuitOperator", "get_current_context")
_SDK = ("DAG", "dag", "task", "task_group", "TaskGroup", "Label", "BaseOperator", "chain", "cross_downstream",
        "chain_linear", "Param", "ParamsDict", "Variable", "Connection", "BaseHook", "TriggerRule", "XComArg",
        "get_current_context", "BaseSensorOperator", "PokeReturnValue")
_STD = "airflow.providers.standard.operators"
_STD_SENSORS = "airflow.providers.standard.sensors"
_PACKAGES = ("airflow", "airflow.models", "airflow.sdk", "airflow.operators", "airflow.providers",
             "airflow.providers.standard", _STD, "airflow.utils", "airflow.hooks", "airflow.decorators",
             "airflow.sdk.definitions", "airflow.sensors", _STD_SENSORS, "airflow.timetables")

MODULES: dict[str, Callable[[], dict[str, Any]]] = {
    "airflow": _pick("DAG", "Dataset"),
    "airflow.models": _pick("DAG", "BaseOperator", "Variable", "Param", "Connection", "XComArg"),
    "airflow.models.dag": _pick("DAG"),
    "airflow.models.baseoperator": _pick("BaseOperator", "chain", "cross_downstream", "chain_linear"),
    "airflow.models.param": _pick("Param", "ParamsDict"),
    "airflow.models.variable": _pick("Variable"),
    "airflow.models.connection": _pick("Connection"),
    "airflow.models.xcom_arg": _pick("XComArg"),
    "airflow.sdk": _pick(*_SDK),
    "airflow.sdk.definitions": dict,
    "airflow.sdk.definitions.dag": _pick("DAG", "dag"),
    "airflow.sdk.exceptions": _exceptions,
    "airflow.sdk.timezone": _timezone,
    "airflow.decorators": _pick("dag", "task", "task_group"),
    "airflow.operators": dict,
    "airflow.operators.bash": _pick("BashOperator"),
    "airflow.operators.bash_operator": _pick("BashOperator"),
    "airflow.operators.python": _pick(*_PY),
    "airflow.operators.python_operator": _pick(*_PY),
    "airflow.operators.empty": _pick("EmptyOperator"),
    "airflow.operators.dummy": _dummy,
    "airflow.operators.dummy_operator": _dummy,
    "airflow.operators.latest_only": _pick("LatestOnlyOperator"),
    "airflow.providers": dict,
    "airflow.providers.standard": dict,
    _STD: dict,
    f"{_STD}.bash": _pick("BashOperator"),
    f"{_STD}.python": _pick(*_PY),
    f"{_STD}.empty": _pick("EmptyOperator"),
    f"{_STD}.latest_only": _pick("LatestOnlyOperator"),
    "airflow.sensors": dict,
    "airflow.sensors.base": _pick("BaseSensorOperator", "PokeReturnValue"),
    "airflow.sensors.python": _pick("PythonSensor"),
    "airflow.sensors.bash": _pick("BashSensor"),
    "airflow.sensors.time_delta": _pick("TimeDeltaSensor"),
    "airflow.sensors.date_time": _pick("DateTimeSensor"),
    _STD_SENSORS: dict,
    f"{_STD_SENSORS}.python": _pick("PythonSensor"),
    f"{_STD_SENSORS}.bash": _pick("BashSensor"),
    f"{_STD_SENSORS}.time_delta": _pick("TimeDeltaSensor"),
    f"{_STD_SENSORS}.date_time": _pick("DateTimeSensor"),
    "airflow.timetables": dict,
    "airflow.timetables.interval": _timetables("CronDataIntervalTimetable", "DeltaDataIntervalTimetable"),
    "airflow.timetables.trigger": _timetables("CronTriggerTimetable", "DeltaTriggerTimetable"),
    "airflow.timetables.simple": _timetables("NullTimetable", "OnceTimetable"),
    "airflow.utils": dict,
    "airflow.utils.trigger_rule": _pick("TriggerRule"),
    "airflow.utils.dates": _dates,
    "airflow.utils.timezone": _timezone,
    "airflow.utils.task_group": _pick("TaskGroup"),
    "airflow.utils.edgemodifier": _pick("Label"),
    "airflow.utils.helpers": _pick("chain", "cross_downstream"),
    "airflow.utils.context": _context,
    "airflow.exceptions": _exceptions,
    "airflow.hooks": dict,
    "airflow.hooks.base": _pick("BaseHook"),
    "airflow.macros": _macros,
}


def provides(name: str) -> bool:
    return name in MODULES


def is_package(name: str) -> bool:
    return name in _PACKAGES


def build(name: str) -> types.ModuleType:
    module = types.ModuleType(name, f"Airflow's {name}, as ledgerflow provides it.")
    module.__dict__.update(MODULES[name]())
    if is_package(name):
        module.__path__ = []

    def refuse(attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        if provides(f"{name}.{attr}"):  # `from airflow.operators import bash` asks the package first
            return importlib.import_module(f"{name}.{attr}")
        raise unsupported_import(f"{name}.{attr}")

    module.__getattr__ = refuse  # type: ignore[method-assign]
    return module
