from buf.validate import validate_pb2 as _validate_pb2
from flowgate.auth.v1 import auth_pb2 as _auth_pb2
from flowgate.events.v1 import events_pb2 as _events_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublishEventRequest(_message.Message):
    __slots__ = ("event_id", "event")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event: _events_pb2.CloudEvent
    def __init__(self, event_id: _Optional[str] = ..., event: _Optional[_Union[_events_pb2.CloudEvent, _Mapping]] = ...) -> None: ...

class PublishEventResponse(_message.Message):
    __slots__ = ("event_id", "fired", "status")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    fired: _containers.RepeatedCompositeFieldContainer[_events_pb2.FiredTrigger]
    status: str
    def __init__(self, event_id: _Optional[str] = ..., fired: _Optional[_Iterable[_Union[_events_pb2.FiredTrigger, _Mapping]]] = ..., status: _Optional[str] = ...) -> None: ...

class DropEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.CloudEvent
    def __init__(self, event: _Optional[_Union[_events_pb2.CloudEvent, _Mapping]] = ...) -> None: ...

class DropEventResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class ListTriggersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTriggersResponse(_message.Message):
    __slots__ = ("triggers",)
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    triggers: _containers.RepeatedCompositeFieldContainer[_events_pb2.Trigger]
    def __init__(self, triggers: _Optional[_Iterable[_Union[_events_pb2.Trigger, _Mapping]]] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[_events_pb2.DaprSubscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[_events_pb2.DaprSubscription, _Mapping]]] = ...) -> None: ...
