"""Request and response bodies with the field names, defaults and required fields of Airflow 3's
OpenAPI specification (v2.yaml of apache-airflow-client 3.x)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TIState = Literal["removed", "scheduled", "queued", "running", "success", "restarting", "failed", "up_for_retry",
                  "up_for_reschedule", "upstream_failed", "skipped", "deferred", "awaiting_input"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HTTPExceptionResponse(BaseModel):
    detail: str | dict[str, Any]


class TokenBody(Body):
    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"


class TriggerDAGRunPostBody(Body):
    dag_run_id: str | None = None
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None
    conf: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=1000)
    partition_key: str | None = None


class DAGRunClearBody(Body):
    dry_run: bool = True
    only_failed: bool = False
    only_new: bool = False
    run_on_latest_version: bool | None = None
    note: str | None = Field(default=None, max_length=1000)


class ClearTaskInstancesBody(Body):
    dry_run: bool = True
    start_date: datetime | None = None
    end_date: datetime | None = None
    only_failed: bool = True
    only_running: bool = False
    reset_dag_runs: bool = True
    task_ids: list[str | tuple[str, int]] | None = None
    dag_run_id: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False
    run_on_latest_version: bool | None = None
    prevent_running_task: bool = False
    note: str | None = Field(default=None, max_length=1000)


class PatchTaskInstanceBody(Body):
    new_state: TIState | None = None
    note: str | None = Field(default=None, max_length=1000)
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False


class DAGPatchBody(Body):
    is_paused: bool


class PoolBody(Body):
    name: str = Field(max_length=256)
    slots: int = Field(ge=-1)
    description: str | None = None
    include_deferred: bool = False
    team_name: str | None = Field(default=None, max_length=50)


class Open(BaseModel):
    """A response body: the specification's fields, the optional ones left out when unknown."""

    model_config = ConfigDict(extra="allow")


class DAGRunResponse(Open):
    dag_run_id: str
    dag_id: str
    dag_display_name: str
    logical_date: str | None
    run_after: str
    run_type: Literal["backfill", "scheduled", "manual"]
    state: Literal["queued", "running", "success", "failed"]
    dag_versions: list[dict[str, Any]]
    conf: dict[str, Any] | None = None


class DAGRunCollectionResponse(BaseModel):
    dag_runs: list[DAGRunResponse]
    total_entries: int


class TaskInstanceResponse(Open):
    id: str
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    run_after: str
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    pool: str
    pool_slots: int
    executor_config: str
    state: TIState | None = None


class TaskInstanceCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int


class EventLogResponse(Open):
    event_log_id: int
    when: str
    event: str
    owner: str | None = None
    extra: str | None = None


class EventLogCollectionResponse(BaseModel):
    event_logs: list[EventLogResponse]
    total_entries: int


class PoolResponse(Open):
    name: str
    slots: int
    include_deferred: bool
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int
    open_slots: int
    deferred_slots: int


class PoolCollectionResponse(BaseModel):
    pools: list[PoolResponse]
    total_entries: int


class BackfillPostBody(Body):
    dag_id: str = Field(max_length=250)
    from_date: datetime
    to_date: datetime
    run_backwards: bool = False
    dag_run_conf: dict[str, Any] | None = None
    reprocess_behavior: Literal["failed", "completed", "none"] = "none"
    max_active_runs: int = 10
    run_on_latest_version: bool | None = None


class BackfillResponse(Open):
    id: int
    dag_id: str
    dag_display_name: str
    from_date: str
    to_date: str
    is_paused: bool
    reprocess_behavior: Literal["failed", "completed", "none"]
    max_active_runs: int
    created_at: str
    updated_at: str
    dag_run_conf: dict[str, Any] | None = None
    completed_at: str | None = None


class BackfillCollectionResponse(BaseModel):
    backfills: list[BackfillResponse]
    total_entries: int


class DryRunBackfillResponse(Open):
    logical_date: str | None = None


class DryRunBackfillCollectionResponse(BaseModel):
    backfills: list[DryRunBackfillResponse]
    total_entries: int


class XComResponse(Open):
    key: str
    timestamp: str
    map_index: int
    task_id: str
    dag_id: str
    run_id: str
    dag_display_name: str
    task_display_name: str
    run_after: str


class XComCollectionResponse(BaseModel):
    xcom_entries: list[XComResponse]
    total_entries: int


class DAGResponse(Open):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_stale: bool
    fileloc: str
    file_token: str
    timetable_partitioned: bool
    timetable_periodic: bool
    tags: list[dict[str, Any]]
    max_active_tasks: int
    max_consecutive_failed_dag_runs: int
    has_task_concurrency_limits: bool
    has_import_errors: bool
    owners: list[str]
    is_backfillable: bool


class DAGCollectionResponse(BaseModel):
    dags: list[DAGResponse]
    total_entries: int
