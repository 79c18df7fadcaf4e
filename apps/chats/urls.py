from django.urls import path

from apps.chats.apis import (
    ChatCreateApi,
    ChatDeleteApi,
    ChatDetailApi,
    ChatListApi,
    ChatUpdateApi,
    MessageHistoryApi,
    RunDetailApi,
    RunEventListApi,
)
from apps.chats.apis_attachments import AttachmentContentApi
from apps.core.apis import method_view

# POST /api/chat/{projectId}/messages (the SSE stream) and GET /api/runs/{runId}/stream are
# Channels consumers (config/routing.py); Django only serves the GETs below.
urlpatterns = [
    path("projects/<str:projectId>/chats", method_view(ChatListApi, ChatCreateApi), name="chats"),
    path("chats/<str:chatId>", method_view(ChatDetailApi, ChatUpdateApi, ChatDeleteApi), name="chat-detail"),
    path("chat/<str:projectId>/messages", method_view(MessageHistoryApi), name="chat-history"),
    path("runs/<str:runId>", method_view(RunDetailApi), name="run-detail"),
    path("runs/<str:runId>/events", method_view(RunEventListApi), name="run-events"),
    path("attachments/<str:attachmentId>", method_view(AttachmentContentApi), name="attachment-content"),
]
