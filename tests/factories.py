"""factory_boy factories for the models every test needs."""
from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from apps.chats.models import Chat, Message
from apps.core.models import Membership, Workspace
from apps.projects.models import Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or "pw-for-tests-123")
        if create:
            self.save(update_fields=["password"])


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class ChatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chat

    project = factory.SubFactory(ProjectFactory)
    mode = "chat"
    title = factory.Sequence(lambda n: f"Chat {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    chat = factory.SubFactory(ChatFactory)
    role = "user"
    content = factory.Sequence(lambda n: f"message {n}")


class CustomModeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.CustomMode"

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"mode-{n}")
    system_prompt = "You review things."


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "chats.Run"

    chat = factory.SubFactory(ChatFactory)
    user_message = factory.SubFactory(MessageFactory, chat=factory.SelfAttribute("..chat"), role="user")
    assistant_message = factory.SubFactory(
        MessageFactory, chat=factory.SelfAttribute("..chat"), role="assistant"
    )
    status = "completed"
    model = "offline"
    provider = "offline"


class RunEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "chats.RunEvent"

    run = factory.SubFactory(RunFactory)
    seq = factory.Sequence(lambda n: n + 1)
    type = "assistant.message_delta"
    payload = factory.LazyAttribute(lambda o: {"delta": f"token {o.seq} "})
