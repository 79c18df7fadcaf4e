const ws = new WebSocket('ws://localhost:3000/api/chat/ws');
ws.onopen = () => {
ws.send(JSON.stringify({
type: 'message',
content: 'Create a task management system'
}));
};
ws.onmessage = (event) => {
const data = JSON.parse(event.data);
console.log('Received:', data);
};
