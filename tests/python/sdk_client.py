"""Drives the proxy with the official `openai` Python SDK and prints what it read as JSON.

Usage: sdk_client.py BASE_URL. Any exception (a parse error of an event, say) exits non-zero.
"""
import json
import sys

from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key="not-a-real-key", max_retries=0, timeout=30)
tools = [{
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]

# 1. responses.create(stream=True): raw typed events.
types, text, completed = [], "", None
for event in client.responses.create(model="gpt-5.5", input="say hello", stream=True):
    types.append(event.type)
    if event.type == "response.output_text.delta":
        text += event.delta
    if event.type == "response.completed":
        completed = event.response

# 2. responses.stream(...): the SDK's accumulating helper.
with client.responses.stream(model="gpt-5.5", input="weather in Paris?", tools=tools) as stream:
    helper_types = [event.type for event in stream]
    final = stream.get_final_response()
calls = [item for item in final.output if item.type == "function_call"]

# 3. A non-streamed response.
whole = client.responses.create(model="gpt-5.5", input="once more")

print(json.dumps({
    "event_types": types,
    "delta_text": text,
    "completed_text": completed.output_text,
    "completed_usage": completed.usage.model_dump(),
    "helper_event_types": helper_types,
    "call": {"name": calls[0].name, "call_id": calls[0].call_id, "arguments": json.loads(calls[0].arguments)},
    "helper_usage": final.usage.model_dump(),
    "whole_text": whole.output_text,
    "whole_status": whole.status,
}))
