curl -X POST https://testing.codmir.com/api/chat \
-H "Content-Type: application/json" \
-d '{
"messages": [
{"role": "user", "content": "What does this project do?"}
],
"projectId": "my-project",
"provider": "openai"
}'
