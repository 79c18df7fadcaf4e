"""Seed 000's blog example, exactly as the seed writes it (``content`` of its dsl event)."""
from __future__ import annotations

import json

SEED_BLOG_JSON = """
{
  "entities": {
    "User": {
      "fields": {
        "id": { "type": "uuid", "required": true },
        "email": { "type": "string", "required": true, "unique": true },
        "name": { "type": "string", "required": true },
        "role": { "type": "enum", "values": ["admin", "author", "reader"] }
      }
    },
    "Post": {
      "fields": {
        "id": { "type": "uuid", "required": true },
        "title": { "type": "string", "required": true },
        "slug": { "type": "string", "required": true, "unique": true },
        "content": { "type": "text", "required": true },
        "excerpt": { "type": "text", "required": false },
        "authorId": { "type": "uuid", "required": true },
        "status": { "type": "enum", "values": ["draft", "published", "archived"] },
        "publishedAt": { "type": "datetime", "required": false }
      }
    },
    "Comment": {
      "fields": {
        "id": { "type": "uuid", "required": true },
        "content": { "type": "text", "required": true },
        "postId": { "type": "uuid", "required": true },
        "authorId": { "type": "uuid", "required": true },
        "approved": { "type": "boolean", "required": true, "default": false }
      }
    },
    "Tag": {
      "fields": {
        "id": { "type": "uuid", "required": true },
        "name": { "type": "string", "required": true, "unique": true },
        "slug": { "type": "string", "required": true, "unique": true }
      }
    }
  },
  "relationships": [
    { "from": "Post", "to": "User", "type": "many-to-one", "name": "author" },
    { "from": "Comment", "to": "Post", "type": "many-to-one" },
    { "from": "Comment", "to": "User", "type": "many-to-one", "name": "author" },
    { "from": "Post", "to": "Tag", "type": "many-to-many" }
  ],
  "phase": "proposing",
  "readiness": 65,
  "confidence": 0.85
}
"""


def seed_blog() -> dict:
    return json.loads(SEED_BLOG_JSON)
