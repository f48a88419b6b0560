import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkflowStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_STATUS_UNSPECIFIED: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_RUNNING: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_COMPLETED: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_FAILED: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_CANCELED: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_TERMINATED: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_CONTINUED_AS_NEW: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_TIMED_OUT: _ClassVar[WorkflowStatus]
    WORKFLOW_STATUS_PAUSED: _ClassVar[WorkflowStatus]

class WorkflowArgs(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_ARGS_UNSPECIFIED: _ClassVar[WorkflowArgs]
    WORKFLOW_ARGS_SINGLE: _ClassVar[WorkflowArgs]
    WORKFLOW_ARGS_SPREAD: _ClassVar[WorkflowArgs]

class WorkflowIdReusePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED: _ClassVar[WorkflowIdReusePolicy]
    WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: _ClassVar[WorkflowIdReusePolicy]
    WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY: _ClassVar[WorkflowIdReusePolicy]
    WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: _ClassVar[WorkflowIdReusePolicy]

class WorkflowIdConflictPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_FAIL: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: _ClassVar[WorkflowIdConflictPolicy]

class WorkflowEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_EVENT_TYPE_UNSPECIFIED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_STARTED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_ACTIVITY_SCHEDULED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_ACTIVITY_RETRIED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_ACTIVITY_COMPLETED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_ACTIVITY_FAILED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_SIGNAL_RECEIVED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_UPDATE_ACCEPTED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_UPDATE_COMPLETED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_TIMER_STARTED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_TIMER_FIRED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_PROGRESS: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_WAITING_FOR_INPUT: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_INPUT_RECEIVED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_CANCEL_REQUESTED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_COMPLETED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_FAILED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_CANCELED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_TERMINATED: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_TIMED_OUT: _ClassVar[WorkflowEventType]
    WORKFLOW_EVENT_TYPE_CONTINUED_AS_NEW: _ClassVar[WorkflowEventType]
WORKFLOW_STATUS_UNSPECIFIED: WorkflowStatus
WORKFLOW_STATUS_RUNNING: WorkflowStatus
WORKFLOW_STATUS_COMPLETED: WorkflowStatus
WORKFLOW_STATUS_FAILED: WorkflowStatus
WORKFLOW_STATUS_CANCELED: WorkflowStatus
WORKFLOW_STATUS_TERMINATED: WorkflowStatus
WORKFLOW_STATUS_CONTINUED_AS_NEW: WorkflowStatus
WORKFLOW_STATUS_TIMED_OUT: WorkflowStatus
WORKFLOW_STATUS_PAUSED: WorkflowStatus
WORKFLOW_ARGS_UNSPECIFIED: WorkflowArgs
WORKFLOW_ARGS_SINGLE: WorkflowArgs
WORKFLOW_ARGS_SPREAD: WorkflowArgs
WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED: WorkflowIdReusePolicy
WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: WorkflowIdReusePolicy
WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY: WorkflowIdReusePolicy
WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: WorkflowIdReusePolicy
WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_FAIL: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: WorkflowIdConflictPolicy
WORKFLOW_EVENT_TYPE_UNSPECIFIED: WorkflowEventType
WORKFLOW_EVENT_TYPE_STARTED: WorkflowEventType
WORKFLOW_EVENT_TYPE_ACTIVITY_SCHEDULED: WorkflowEventType
WORKFLOW_EVENT_TYPE_ACTIVITY_RETRIED: WorkflowEventType
WORKFLOW_EVENT_TYPE_ACTIVITY_COMPLETED: WorkflowEventType
WORKFLOW_EVENT_TYPE_ACTIVITY_FAILED: WorkflowEventType
WORKFLOW_EVENT_TYPE_SIGNAL_RECEIVED: WorkflowEventType
WORKFLOW_EVENT_TYPE_UPDATE_ACCEPTED: WorkflowEventType
WORKFLOW_EVENT_TYPE_UPDATE_COMPLETED: WorkflowEventType
WORKFLOW_EVENT_TYPE_TIMER_STARTED: WorkflowEventType
WORKFLOW_EVENT_TYPE_TIMER_FIRED: WorkflowEventType
WORKFLOW_EVENT_TYPE_PROGRESS: WorkflowEventType
WORKFLOW_EVENT_TYPE_WAITING_FOR_INPUT: WorkflowEventType
WORKFLOW_EVENT_TYPE_INPUT_RECEIVED: WorkflowEventType
WORKFLOW_EVENT_TYPE_CANCEL_REQUESTED: WorkflowEventType
WORKFLOW_EVENT_TYPE_COMPLETED: WorkflowEventType
WORKFLOW_EVENT_TYPE_FAILED: WorkflowEventType
WORKFLOW_EVENT_TYPE_CANCELED: WorkflowEventType
WORKFLOW_EVENT_TYPE_TERMINATED: WorkflowEventType
WORKFLOW_EVENT_TYPE_TIMED_OUT: WorkflowEventType
WORKFLOW_EVENT_TYPE_CONTINUED_AS_NEW: WorkflowEventType

class WorkflowFailure(_message.Message):
    __slots__ = ("message", "type", "stack_trace", "cause")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STACK_TRACE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    message: str
    type: str
    stack_trace: str
    cause: WorkflowFailure
    def __init__(self, message: _Optional[str] = ..., type: _Optional[str] = ..., stack_trace: _Optional[str] = ..., cause: _Optional[_Union[WorkflowFailure, _Mapping]] = ...) -> None: ...

class WorkflowType(_message.Message):
    __slots__ = ("name", "description", "task_queue", "input_schema", "result_schema", "args", "signals", "queries", "updates", "defaults")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    RESULT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    task_queue: str
    input_schema: _struct_pb2.Value
    result_schema: _struct_pb2.Value
    args: WorkflowArgs
    signals: _containers.RepeatedCompositeFieldContainer[WorkflowHandler]
    queries: _containers.RepeatedCompositeFieldContainer[WorkflowHandler]
    updates: _containers.RepeatedCompositeFieldContainer[WorkflowHandler]
    defaults: WorkflowTypeDefaults
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., task_queue: _Optional[str] = ..., input_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., result_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., args: _Optional[_Union[WorkflowArgs, str]] = ..., signals: _Optional[_Iterable[_Union[WorkflowHandler, _Mapping]]] = ..., queries: _Optional[_Iterable[_Union[WorkflowHandler, _Mapping]]] = ..., updates: _Optional[_Iterable[_Union[WorkflowHandler, _Mapping]]] = ..., defaults: _Optional[_Union[WorkflowTypeDefaults, _Mapping]] = ...) -> None: ...

class WorkflowHandler(_message.Message):
    __slots__ = ("name", "description", "input_schema", "result_schema")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    RESULT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    input_schema: _struct_pb2.Value
    result_schema: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., input_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., result_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class WorkflowTypeDefaults(_message.Message):
    __slots__ = ("execution_timeout", "run_timeout", "task_timeout", "id_reuse_policy")
    EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ID_REUSE_POLICY_FIELD_NUMBER: _ClassVar[int]
    execution_timeout: _duration_pb2.Duration
    run_timeout: _duration_pb2.Duration
    task_timeout: _duration_pb2.Duration
    id_reuse_policy: WorkflowIdReusePolicy
    def __init__(self, execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., id_reuse_policy: _Optional[_Union[WorkflowIdReusePolicy, str]] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("initial_interval", "backoff_coefficient", "maximum_interval", "maximum_attempts", "non_retryable_error_types")
    INITIAL_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NON_RETRYABLE_ERROR_TYPES_FIELD_NUMBER: _ClassVar[int]
    initial_interval: _duration_pb2.Duration
    backoff_coefficient: float
    maximum_interval: _duration_pb2.Duration
    maximum_attempts: int
    non_retryable_error_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, initial_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., backoff_coefficient: _Optional[float] = ..., maximum_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., maximum_attempts: _Optional[int] = ..., non_retryable_error_types: _Optional[_Iterable[str]] = ...) -> None: ...

class StartOptions(_message.Message):
    __slots__ = ("memo", "search_attributes", "id_conflict_policy", "id_reuse_policy", "execution_timeout", "run_timeout", "task_timeout", "retry_policy", "start_delay")
    class MemoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    class SearchAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ID_CONFLICT_POLICY_FIELD_NUMBER: _ClassVar[int]
    ID_REUSE_POLICY_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    START_DELAY_FIELD_NUMBER: _ClassVar[int]
    memo: _containers.MessageMap[str, _struct_pb2.Value]
    search_attributes: _containers.MessageMap[str, _struct_pb2.Value]
    id_conflict_policy: WorkflowIdConflictPolicy
    id_reuse_policy: WorkflowIdReusePolicy
    execution_timeout: _duration_pb2.Duration
    run_timeout: _duration_pb2.Duration
    task_timeout: _duration_pb2.Duration
    retry_policy: RetryPolicy
    start_delay: _duration_pb2.Duration
    def __init__(self, memo: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., search_attributes: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., id_conflict_policy: _Optional[_Union[WorkflowIdConflictPolicy, str]] = ..., id_reuse_policy: _Optional[_Union[WorkflowIdReusePolicy, str]] = ..., execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., start_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("step", "percent", "message")
    STEP_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    step: str
    percent: float
    message: str
    def __init__(self, step: _Optional[str] = ..., percent: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class InputRequest(_message.Message):
    __slots__ = ("name", "prompt", "schema")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    name: str
    prompt: str
    schema: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., prompt: _Optional[str] = ..., schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class PendingActivity(_message.Message):
    __slots__ = ("activity_id", "activity_type", "attempt", "state", "last_failure", "next_attempt_schedule_time")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_SCHEDULE_TIME_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    activity_type: str
    attempt: int
    state: str
    last_failure: WorkflowFailure
    next_attempt_schedule_time: _timestamp_pb2.Timestamp
    def __init__(self, activity_id: _Optional[str] = ..., activity_type: _Optional[str] = ..., attempt: _Optional[int] = ..., state: _Optional[str] = ..., last_failure: _Optional[_Union[WorkflowFailure, _Mapping]] = ..., next_attempt_schedule_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WorkflowExecution(_message.Message):
    __slots__ = ("workflow_id", "run_id", "workflow_type", "task_queue", "status", "start_time", "close_time", "history_length", "memo")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: WorkflowStatus
    start_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    history_length: int
    memo: _struct_pb2.Struct
    def __init__(self, workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., workflow_type: _Optional[str] = ..., task_queue: _Optional[str] = ..., status: _Optional[_Union[WorkflowStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history_length: _Optional[int] = ..., memo: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
