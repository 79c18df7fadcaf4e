"""The engine's bus over the channel layer."""
from __future__ import annotations

from apps.streaming.bus import ChannelLayerBus


def test_an_in_memory_channel_layer_is_not_published_to(settings):
    # A layer made for this bus would reach nobody else; publishing only copied batches to ourselves.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert ChannelLayerBus().layer is None


def test_a_redis_channel_layer_is_used(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"]}}}
    assert ChannelLayerBus().layer is not None
