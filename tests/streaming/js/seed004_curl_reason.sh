curl -X POST https://testing.codmir.com/api/chat/reason \
-H "Content-Type: application/json" \
-H "Accept: text/event-stream" \
-d '{
"messages": [
{"role": "user", "content": "Explain the architecture"}
],
"projectId": "my-project"
}'
