const response = await fetch('/api/chat', {
method: 'POST',
headers: {
'Content-Type': 'application/json',
},
body: JSON.stringify({
messages: [{
role: 'user',
content: 'I need a blog with posts, authors, and comments'
}]
})
});
const reader = response.body.getReader();
const decoder = new TextDecoder();
while (true) {
const { done, value } = await reader.read();
if (done) break;
const chunk = decoder.decode(value);
const lines = chunk.split('\n');
for (const line of lines) {
if (line.startsWith('data: ')) {
const data = JSON.parse(line.slice(6));
switch(data.type) {
case 'text':
console.log('AI:', data.content);
break;
case 'dsl':
console.log('DSL Update:', data.content);
break;
case 'phase':
console.log('Phase:', data.content);
break;
}
}
}
}
