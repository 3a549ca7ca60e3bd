"""One conversation continued with `previous_response_id` through a gateway, with the
official `openai` Python SDK; prints each turn's response id and text as JSON.

Usage: gateway_turns.py BASE_URL TOKEN PREVIOUS_ID|- TURNS FIRST_TURN_NUMBER
Odd turns stream, even ones do not. Any exception exits non-zero.
"""
import json
import sys

from openai import OpenAI

base_url, token, previous, turns, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
client = OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=30)
previous = None if previous == "-" else previous
ids, texts = [], []
for n in range(first, first + turns):
    if n % 2 == 1:
        completed = None
        for event in client.responses.create(model="gpt-5.5", input=f"turn {n}", previous_response_id=previous, stream=True):
            if event.type == "response.completed":
                completed = event.response
        response = completed
    else:
        response = client.responses.create(model="gpt-5.5", input=f"turn {n}", previous_response_id=previous)
    previous = response.id
    ids.append(response.id)
    texts.append(response.output_text)

print(json.dumps({"ids": ids, "texts": texts}))
