"""Fake OpenAI- and Anthropic-compatible upstreams for tests and benchmarks (loopback only).

``openai_server.FakeOpenAI`` and ``anthropic_server.FakeAnthropic`` are the servers,
``script`` holds what they answer (``Script``, ``ToolCallScript``) and record
(``RecordedRequest``), ``fixtures`` the pytest fixtures, ``process`` the subprocess runner.
"""
