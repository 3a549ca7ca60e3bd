"""The OpenAI Agents SDK through Plugboard: an agent with a function tool, run once, then a
follow-up that replays the first run's items (`to_input_list()`). Prints one JSON object.

Usage: agents_client.py BASE_URL
"""

import json
import sys

from agents import Agent, Runner, function_tool, set_default_openai_client, set_tracing_disabled
from openai import AsyncOpenAI

set_tracing_disabled(True)  # tracing would upload to OpenAI
set_default_openai_client(AsyncOpenAI(base_url=sys.argv[1], api_key="sk-plugboard-test"))

calls = []


@function_tool
def get_weather(location: str) -> str:
    """The weather in a city."""
    calls.append(location)
    return f"sunny and 21 C in {location}"


agent = Agent(name="Weather", instructions="Answer with the weather tool.", model="gpt-5.5", tools=[get_weather])
first = Runner.run_sync(agent, "What is the weather in Paris?")
follow_up = Runner.run_sync(agent, first.to_input_list() + [{"role": "user", "content": "And tomorrow?"}])
print(json.dumps({
    "first": first.final_output,
    "tool_calls": calls,
    "follow_up": follow_up.final_output,
    "replayed_items": len(first.to_input_list()),
}))
