"""REST: chats, their message history, runs and run events. One APIView per operation.

Every lookup is scoped to the caller's workspace through the selectors, so another
workspace's object answers exactly like a missing one (404).
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chats.models import Message, RunEvent
from apps.chats.selectors import (
    RUN_EVENTS_DEFAULT_PAGE_SIZE,
    RUN_EVENTS_MAX_PAGE_SIZE,
    chat_get,
    chat_list,
    message_history_page,
    run_event_page,
    run_get,
)
from apps.chats.services import chat_create, chat_delete, chat_mode_validate, chat_update
from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.projects.selectors import project_get


class ChatOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    projectId = serializers.UUIDField(source="project_id")
    title = serializers.CharField()
    mode = serializers.CharField()
    defaultModel = serializers.CharField(source="default_model")
    dslEnabled = serializers.BooleanField(source="dsl_enabled")
    isDefault = serializers.BooleanField(source="is_default")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "Chat"


class ChatListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        chats = ChatOutputSerializer(many=True)

        class Meta:
            ref_name = "ChatList"

    @extend_schema(operation_id="chats_list", description="The project's chats, newest first.",
                   responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        return Response(self.OutputSerializer({"chats": chat_list(project=project)}).data)


class ChatCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        mode = serializers.CharField(max_length=50, help_text="build, plan, chat or a custom mode's name")
        title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ChatCreate"

    @extend_schema(
        operation_id="chats_create",
        request=InputSerializer,
        responses={201: ChatOutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mode = chat_mode_validate(project=project, mode=data.validated_data["mode"])
        chat = chat_create(project=project, mode=mode, title=data.validated_data["title"])
        return Response(ChatOutputSerializer(chat).data, status=201)


class ChatDetailApi(APIView):
    @extend_schema(operation_id="chats_retrieve",
                   responses={200: ChatOutputSerializer, **error_responses(404)})
    def get(self, request: Request, chatId: str) -> Response:
        chat = chat_get(workspace=request_principal(request).workspace, chat_id=chatId)
        return Response(ChatOutputSerializer(chat).data)


class ChatUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False, allow_blank=True)
        mode = serializers.CharField(max_length=50, required=False)
        defaultModel = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                             source="default_model")
        dslEnabled = serializers.BooleanField(required=False, source="dsl_enabled")

        class Meta:
            ref_name = "ChatUpdate"

    @extend_schema(
        operation_id="chats_update",
        description="Rename the chat, switch its mode, default model or DSL extraction.",
        request=InputSerializer,
        responses={200: ChatOutputSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request: Request, chatId: str) -> Response:
        chat = chat_get(workspace=request_principal(request).workspace, chat_id=chatId)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chat = chat_update(chat=chat, **data.validated_data)
        return Response(ChatOutputSerializer(chat).data)


class ChatDeleteApi(APIView):
    @extend_schema(
        operation_id="chats_delete",
        description="Delete a chat with its messages and runs; a project keeps its last chat (409).",
        responses={204: None, **error_responses(403, 404, 409)},
    )
    def delete(self, request: Request, chatId: str) -> Response:
        chat = chat_get(workspace=request_principal(request).workspace, chat_id=chatId)
        chat_delete(chat=chat)
        return Response(status=204)


class UsageSerializer(serializers.Serializer):
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")

    class Meta:
        ref_name = "Usage"


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    chatId = serializers.UUIDField(source="chat_id")
    role = serializers.CharField()
    content = serializers.CharField()
    parts = serializers.JSONField()
    status = serializers.CharField()
    model = serializers.CharField()
    provider = serializers.CharField()
    usage = UsageSerializer(source="*")
    cost = serializers.DecimalField(max_digits=12, decimal_places=6, coerce_to_string=False,
                                    help_text="USD, as a number")
    clientMessageId = serializers.CharField(source="client_message_id", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    runId = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Message"

    def get_runId(self, message: Message) -> str | None:
        run_id = self.context.get("run_ids", {}).get(message.id)
        return str(run_id) if run_id else None

    def to_representation(self, message: Message) -> dict[str, Any]:
        # History pages are the hottest read: build the declared shape directly (about 4x
        # faster than field-by-field); test_message_shape pins it to the declaration.
        return {
            "id": str(message.id), "chatId": str(message.chat_id), "role": message.role,
            "content": message.content, "parts": message.parts, "status": message.status,
            "model": message.model, "provider": message.provider,
            "usage": {"inputTokens": message.input_tokens, "outputTokens": message.output_tokens},
            "cost": float(message.cost), "clientMessageId": message.client_message_id,
            "createdAt": _datetime_field.to_representation(message.created_at),
            "runId": self.get_runId(message),
        }


_datetime_field = serializers.DateTimeField()


_history_parameters = [
    OpenApiParameter("chatId", str, required=True, description="the chat, which must belong to the project"),
    OpenApiParameter("before", str, description="`nextCursor` of the previous page; omit for the newest"),
    OpenApiParameter("limit", int, description=f"1–{settings.HISTORY_MAX_PAGE_SIZE}, default 50"),
]


class MessageHistoryApi(APIView):
    class FilterSerializer(serializers.Serializer):
        chatId = serializers.CharField()
        before = serializers.CharField(required=False, allow_blank=True, default="")
        limit = serializers.IntegerField(required=False, default=50, min_value=1,
                                         max_value=settings.HISTORY_MAX_PAGE_SIZE)

    class OutputSerializer(serializers.Serializer):
        messages = MessageOutputSerializer(many=True, help_text="oldest → newest")
        nextCursor = serializers.CharField(allow_null=True, help_text="`before` for the older page")
        hasMore = serializers.BooleanField()

        class Meta:
            ref_name = "MessageHistoryPage"

    @extend_schema(
        operation_id="chat_history",
        description=(
            "Seed 001 history: the chat's persisted messages, newest page first, each page in "
            "chronological order. Keyset-paginated: a cursor stays valid while messages are added."
        ),
        parameters=_history_parameters,
        responses={200: OutputSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, projectId: str) -> Response:
        workspace = request_principal(request).workspace
        project = project_get(workspace=workspace, project_id=projectId)
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        chat = chat_get(workspace=workspace, chat_id=query.validated_data["chatId"], project=project)
        page = message_history_page(
            chat=chat, before=query.validated_data["before"] or None, limit=query.validated_data["limit"]
        )
        messages = MessageOutputSerializer(page.messages, many=True, context={"run_ids": page.run_ids})
        return Response({"messages": messages.data, "nextCursor": page.next_cursor, "hasMore": page.has_more})


class RunOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    chatId = serializers.UUIDField(source="chat_id")
    projectId = serializers.UUIDField(source="chat.project_id")
    status = serializers.CharField()
    model = serializers.CharField()
    provider = serializers.CharField()
    errorCode = serializers.CharField(source="error_code")
    errorMessage = serializers.CharField(source="error_message")
    userMessageId = serializers.UUIDField(source="user_message_id", allow_null=True)
    assistantMessageId = serializers.UUIDField(source="assistant_message_id", allow_null=True)
    lastSeq = serializers.IntegerField(source="last_seq")
    stopRequested = serializers.BooleanField(source="stop_requested")
    usage = UsageSerializer(source="*")
    cost = serializers.DecimalField(max_digits=12, decimal_places=6, coerce_to_string=False)
    startedAt = serializers.DateTimeField(source="started_at")
    heartbeatAt = serializers.DateTimeField(source="heartbeat_at")
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)

    class Meta:
        ref_name = "Run"


class RunDetailApi(APIView):
    @extend_schema(operation_id="runs_retrieve", responses={200: RunOutputSerializer, **error_responses(404)})
    def get(self, request: Request, runId: str) -> Response:
        run = run_get(workspace=request_principal(request).workspace, run_id=runId)
        return Response(RunOutputSerializer(run).data)


def _event_body(event: RunEvent, *, run_id: str, chat_id: str) -> dict[str, Any]:
    """The canonical event: the payload flattened, the envelope keys winning over it."""
    payload = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
    return {**payload, "seq": event.seq, "runId": run_id, "chatId": chat_id, "type": event.type,
            "createdAt": serializers.DateTimeField().to_representation(event.created_at)}


class RunEventListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(required=False, default=0, min_value=0)
        limit = serializers.IntegerField(required=False, default=RUN_EVENTS_DEFAULT_PAGE_SIZE, min_value=1,
                                         max_value=RUN_EVENTS_MAX_PAGE_SIZE)

    class OutputSerializer(serializers.Serializer):
        events = serializers.ListField(
            child=serializers.DictField(),
            help_text="`{seq, runId, chatId, type, ...payload, createdAt}` in seq order",
        )
        nextAfter = serializers.IntegerField(help_text="`after` for the next page")
        hasMore = serializers.BooleanField()

        class Meta:
            ref_name = "RunEventPage"

    @extend_schema(
        operation_id="runs_events",
        description="The run's persisted event log (the stream's source of truth), by seq.",
        parameters=[
            OpenApiParameter("after", int, description="return events with seq > after (default 0)"),
            OpenApiParameter("limit", int, description=f"1–{RUN_EVENTS_MAX_PAGE_SIZE}, "
                                                       f"default {RUN_EVENTS_DEFAULT_PAGE_SIZE}"),
        ],
        responses={200: OutputSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, runId: str) -> Response:
        run = run_get(workspace=request_principal(request).workspace, run_id=runId)
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = run_event_page(run=run, **query.validated_data)
        run_id, chat_id = str(run.id), str(run.chat_id)
        events = [_event_body(event, run_id=run_id, chat_id=chat_id) for event in page.events]
        return Response({"events": events, "nextAfter": page.next_after, "hasMore": page.has_more})
