"""Engines: vLLM offline, OpenAI-compatible server, replay of stored answers, scripted (tests)."""
