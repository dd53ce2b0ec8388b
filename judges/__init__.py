"""Model-judge prompts and their parsers. Each judge names its model, prompt version and cache key."""
