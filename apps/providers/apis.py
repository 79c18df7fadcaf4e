"""``GET /api/models``: the model registry, with availability and prices."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.providers.pricing import price_for
from apps.providers.registry import ModelInfo, all_models, default_model_name


class ModelPricingSerializer(serializers.Serializer):
    input = serializers.FloatField(help_text="USD per million input tokens")
    output = serializers.FloatField(help_text="USD per million output tokens")


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    provider = serializers.CharField()
    contextWindow = serializers.IntegerField()
    maxOutputTokens = serializers.IntegerField()
    available = serializers.BooleanField(help_text="the provider of this model is configured")
    pricing = ModelPricingSerializer()
    upstreamModel = serializers.CharField(help_text="the model id sent to the provider")
    note = serializers.CharField(allow_blank=True, help_text="lifecycle remarks, e.g. a retired name")


def _model_row(info: ModelInfo) -> dict[str, Any]:
    price = price_for(info)
    return {
        "id": info.name,
        "provider": info.provider,
        "contextWindow": info.context_window,
        "maxOutputTokens": info.max_output_tokens,
        "available": info.available,
        "pricing": {"input": float(price.input), "output": float(price.output)},
        "upstreamModel": info.upstream_model,
        "note": info.note,
    }


class ModelListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        models = ModelSerializer(many=True)
        default = serializers.CharField(help_text="the model used when a request names none")

    @extend_schema(responses=OutputSerializer, summary="List the models this server can route to")
    def get(self, request: Request) -> Response:
        data = {"models": [_model_row(info) for info in all_models()], "default": default_model_name()}
        return Response(self.OutputSerializer(data).data)
