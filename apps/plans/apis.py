"""REST: plans of a project, one plan (read, edit its steps, delete), and seed 001's chat plan.

Plan mode and "Run plan" stream, so they are Channels endpoints (apps.streaming.plans).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chats.selectors import chat_get
from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.core.errors import NotFound
from apps.plans.models import Plan
from apps.plans.selectors import plan_get, plan_latest_for_chat, plan_list, plan_payload
from apps.plans.services import plan_delete, plan_update_steps, plans_reconcile
from apps.projects.selectors import project_get


class PlanStepSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the step's number, from 1")
    title = serializers.CharField()
    description = serializers.CharField()
    files = serializers.ListField(child=serializers.CharField())
    risk = serializers.ChoiceField(choices=["low", "medium", "high"])
    status = serializers.ChoiceField(choices=["pending", "running", "done", "failed", "skipped"])

    class Meta:
        ref_name = "PlanStep"


class PlanOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    chatId = serializers.UUIDField()
    projectId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Plan.Status.values)
    steps = PlanStepSerializer(many=True)
    rawText = serializers.CharField()
    runId = serializers.UUIDField(allow_null=True, help_text="the run executing the plan, once run")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()

    class Meta:
        ref_name = "Plan"


def _output(plan: Plan) -> dict[str, Any]:
    return plan_payload(plan)


def _fresh(plan: Plan, request: Request) -> Plan:
    """The plan, with a run that ended without settling it (a worker died) settled first."""
    if plan.status == Plan.Status.RUNNING:
        plans_reconcile(chat_id=plan.chat_id)
        return plan_get(workspace=request_principal(request).workspace, plan_id=plan.pk)
    return plan


class ProjectPlanListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        plans = PlanOutputSerializer(many=True)

        class Meta:
            ref_name = "PlanList"

    @extend_schema(
        operation_id="plans_list",
        description="The project's plans, newest first.",
        parameters=[OpenApiParameter("status", str, enum=Plan.Status.values, required=False)],
        responses={200: OutputSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        plans = plan_list(project=project, status=request.query_params.get("status") or None)
        return Response({"plans": [_output(plan) for plan in plans]})


class PlanDetailApi(APIView):
    @extend_schema(operation_id="plans_retrieve", responses={200: PlanOutputSerializer, **error_responses(404)})
    def get(self, request: Request, planId: str) -> Response:
        plan = plan_get(workspace=request_principal(request).workspace, plan_id=planId)
        return Response(_output(_fresh(plan, request)))


class PlanUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class StepInput(serializers.Serializer):
            title = serializers.CharField(max_length=200)
            description = serializers.CharField(required=False, allow_blank=True)
            files = serializers.ListField(child=serializers.CharField(), required=False)
            risk = serializers.ChoiceField(choices=["low", "medium", "high"], required=False)

            class Meta:
                ref_name = "PlanStepInput"

        steps = StepInput(many=True)

        class Meta:
            ref_name = "PlanUpdate"

    @extend_schema(
        operation_id="plans_update",
        description="Replace the plan's steps (reorder, remove, add) while it has not run; 409 afterwards.",
        request=InputSerializer,
        responses={200: PlanOutputSerializer, **error_responses(400, 404, 409)},
    )
    def patch(self, request: Request, planId: str) -> Response:
        plan = plan_get(workspace=request_principal(request).workspace, plan_id=planId)
        body = request.data if isinstance(request.data, dict) else {}
        # The service validates, naming fields as ``steps[2].files[0]`` (the submit_plan tool
        # shares it); the serializer above documents the body.
        plan = plan_update_steps(plan=plan, steps=body.get("steps"))
        return Response(_output(plan_get(workspace=request_principal(request).workspace, plan_id=plan.pk)))


class PlanDeleteApi(APIView):
    @extend_schema(operation_id="plans_delete", description="Delete a plan (409 while it runs).",
                   responses={204: None, **error_responses(404, 409)})
    def delete(self, request: Request, planId: str) -> Response:
        plan = plan_get(workspace=request_principal(request).workspace, plan_id=planId)
        plan_delete(plan=_fresh(plan, request))
        return Response(status=204)


class ChatPlanApi(APIView):
    """Seed 001: ``GET /api/plan/{projectId}/{chatId}`` — the chat's latest plan."""

    @extend_schema(
        operation_id="plan_of_chat",
        description="The chat's latest plan: the seed's `{steps, rawText}` plus id, status, per-step status "
                    "and timestamps. 404 when the chat has no plan.",
        responses={200: PlanOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, projectId: str, chatId: str) -> Response:
        workspace = request_principal(request).workspace
        project = project_get(workspace=workspace, project_id=projectId)
        chat = chat_get(workspace=workspace, chat_id=chatId, project=project)
        plan = plan_latest_for_chat(chat=chat)
        if plan is None:
            raise NotFound("This chat has no plan yet.")
        return Response(_output(_fresh(plan, request)))
