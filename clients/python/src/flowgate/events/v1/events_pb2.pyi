import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CloudEvent(_message.Message):
    __slots__ = ("id", "source", "type", "specversion", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64", "topic", "pubsubname", "traceid", "traceparent", "tracestate", "expiration")
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SPECVERSION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    DATACONTENTTYPE_FIELD_NUMBER: _ClassVar[int]
    DATASCHEMA_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DATA_BASE64_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PUBSUBNAME_FIELD_NUMBER: _ClassVar[int]
    TRACEID_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    source: str
    type: str
    specversion: str
    subject: str
    time: _timestamp_pb2.Timestamp
    datacontenttype: str
    dataschema: str
    data: _struct_pb2.Value
    data_base64: str
    topic: str
    pubsubname: str
    traceid: str
    traceparent: str
    tracestate: str
    expiration: str
    def __init__(self, id: _Optional[str] = ..., source: _Optional[str] = ..., type: _Optional[str] = ..., specversion: _Optional[str] = ..., subject: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., datacontenttype: _Optional[str] = ..., dataschema: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., data_base64: _Optional[str] = ..., topic: _Optional[str] = ..., pubsubname: _Optional[str] = ..., traceid: _Optional[str] = ..., traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ..., expiration: _Optional[str] = ...) -> None: ...

class EventCondition(_message.Message):
    __slots__ = ("path", "equals", "exists", "prefix")
    PATH_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    IN_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    path: str
    equals: _struct_pb2.Value
    exists: bool
    prefix: str
    def __init__(self, path: _Optional[str] = ..., equals: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., exists: _Optional[bool] = ..., prefix: _Optional[str] = ..., **kwargs) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("types", "topics", "sources", "conditions")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[str]
    topics: _containers.RepeatedScalarFieldContainer[str]
    sources: _containers.RepeatedScalarFieldContainer[str]
    conditions: _containers.RepeatedCompositeFieldContainer[EventCondition]
    def __init__(self, types: _Optional[_Iterable[str]] = ..., topics: _Optional[_Iterable[str]] = ..., sources: _Optional[_Iterable[str]] = ..., conditions: _Optional[_Iterable[_Union[EventCondition, _Mapping]]] = ...) -> None: ...

class Trigger(_message.Message):
    __slots__ = ("trigger_id", "description", "workflow_type", "task_queue", "filter", "input_path", "pubsub_name")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    INPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    PUBSUB_NAME_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    description: str
    workflow_type: str
    task_queue: str
    filter: EventFilter
    input_path: str
    pubsub_name: str
    def __init__(self, trigger_id: _Optional[str] = ..., description: _Optional[str] = ..., workflow_type: _Optional[str] = ..., task_queue: _Optional[str] = ..., filter: _Optional[_Union[EventFilter, _Mapping]] = ..., input_path: _Optional[str] = ..., pubsub_name: _Optional[str] = ...) -> None: ...

class FiredTrigger(_message.Message):
    __slots__ = ("trigger_id", "workflow_type", "workflow_id", "run_id", "already_started")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_STARTED_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    workflow_type: str
    workflow_id: str
    run_id: str
    already_started: bool
    def __init__(self, trigger_id: _Optional[str] = ..., workflow_type: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., already_started: _Optional[bool] = ...) -> None: ...

class DaprSubscription(_message.Message):
    __slots__ = ("pubsubname", "topic", "route")
    PUBSUBNAME_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    pubsubname: str
    topic: str
    route: str
    def __init__(self, pubsubname: _Optional[str] = ..., topic: _Optional[str] = ..., route: _Optional[str] = ...) -> None: ...
