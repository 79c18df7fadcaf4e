import pytest
from django.db import connection


@pytest.mark.django_db
def test_health_reports_database_and_channel_layer(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channelLayer"].startswith("ok")


@pytest.mark.django_db
def test_vector_extension_is_enabled():
    with connection.cursor() as cursor:
        cursor.execute("select extversion from pg_extension where extname = 'vector'")
        assert cursor.fetchone() is not None
