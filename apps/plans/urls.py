from django.urls import path

from apps.core.apis import method_view
from apps.plans.apis import ChatPlanApi, PlanDeleteApi, PlanDetailApi, PlanUpdateApi, ProjectPlanListApi

# POST /api/plan/{projectId} (plan mode) and POST /api/plan/{projectId}/{chatId}/run stream:
# they are Channels endpoints (apps/streaming/plans.py).
urlpatterns = [
    path("projects/<str:projectId>/plans", method_view(ProjectPlanListApi), name="project-plans"),
    path("plans/<str:planId>", method_view(PlanDetailApi, PlanUpdateApi, PlanDeleteApi), name="plan-detail"),
    path("plan/<str:projectId>/<str:chatId>", method_view(ChatPlanApi), name="chat-plan"),
]
