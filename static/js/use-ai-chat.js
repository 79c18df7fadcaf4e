// A React hook over ChatClient with seed 004's surface. No build step and no bundled React:
// pass your React in (or bind it once with createUseAIChat), e.g.
//   import * as React from 'react';
//   import { createUseAIChat } from '/static/js/use-ai-chat.js';
//   export const useAIChat = createUseAIChat(React);
//   const { messages, isStreaming, sessionId, error, sendMessage, stopStream, clearMessages } =
//     useAIChat({ projectId, chatId, model: 'gpt-5', onChunk, onComplete, onError });
import { ChatClient } from './chat-client.js';

export function createUseAIChat(React) {
  const { useEffect, useMemo, useRef, useState, useCallback } = React;

  return function useAIChat(options) {
    const { projectId, chatId, model, transport, baseUrl, headers, loadHistory = true } = options;
    const callbacks = useRef(options);
    callbacks.current = options;
    const client = useMemo(() => new ChatClient({
      projectId, chatId, model, transport, baseUrl, headers,
      onChunk: (chunk) => callbacks.current.onChunk && callbacks.current.onChunk(chunk),
      onComplete: (content, sessionId) => callbacks.current.onComplete && callbacks.current.onComplete(content, sessionId),
      onError: (err) => callbacks.current.onError && callbacks.current.onError(err),
    }), [projectId, chatId, model, transport, baseUrl]); // eslint-disable-line react-hooks/exhaustive-deps
    const [snapshot, setSnapshot] = useState(() => ({ ...client.state, messages: [...client.state.messages] }));

    useEffect(() => {
      const unsubscribe = client.subscribe((state) => {
        // New array and message objects each time, so React sees the change.
        setSnapshot({ ...state, messages: state.messages.map((m) => ({ ...m })) });
      });
      if (loadHistory && chatId) client.loadHistory().catch((err) => callbacks.current.onError && callbacks.current.onError(err));
      return () => { unsubscribe(); client.close(); };
    }, [client]); // eslint-disable-line react-hooks/exhaustive-deps

    const sendMessage = useCallback(async (content) => { await client.sendMessage(content); }, [client]);
    const stopStream = useCallback(() => { client.stopStream().catch(() => {}); }, [client]);
    const clearMessages = useCallback(() => client.clearMessages(), [client]);

    return {
      messages: snapshot.messages,
      isStreaming: snapshot.isStreaming,
      sessionId: snapshot.sessionId,
      error: snapshot.error,
      sendMessage,
      stopStream,
      clearMessages,
      loadOlder: () => client.loadOlder(),
      client,
    };
  };
}

/** useAIChat(React, options): the hook with React passed per call. */
const hooks = new WeakMap();
export function useAIChat(React, options) {
  if (!hooks.has(React)) hooks.set(React, createUseAIChat(React));
  return hooks.get(React)(options);
}
