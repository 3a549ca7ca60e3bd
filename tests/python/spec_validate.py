"""Validates Plugboard's replies against the Open Responses specification's own models.

`openresponses-types` (PyPI) holds pydantic models generated from the specification. Every
JSON reply is read as a `ResponseResource` and every stream event as the model its `type`
names, in pydantic's strict mode: no coercion, every required key present. An event type
the specification does not define is an error too.

Usage: spec_validate.py BASE_URL CASES_JSON. CASES_JSON is a list of
{"name", "body", "path"?} (the body's `stream` decides how the reply is read; `path` is
`/responses` unless given, and `/responses/compact` answers are read as `CompactResource`). Prints one JSON object:
{name: {"errors": [...], "events": [types...], "response": final response object}}.
"""

import json
import sys
import urllib.request

import openresponses_types.types as t

EVENT_MODELS = {
    "response.created": t.ResponseCreatedStreamingEvent,
    "response.queued": t.ResponseQueuedStreamingEvent,
    "response.in_progress": t.ResponseInProgressStreamingEvent,
    "response.completed": t.ResponseCompletedStreamingEvent,
    "response.failed": t.ResponseFailedStreamingEvent,
    "response.incomplete": t.ResponseIncompleteStreamingEvent,
    "response.output_item.added": t.ResponseOutputItemAddedStreamingEvent,
    "response.output_item.done": t.ResponseOutputItemDoneStreamingEvent,
    "response.content_part.added": t.ResponseContentPartAddedStreamingEvent,
    "response.content_part.done": t.ResponseContentPartDoneStreamingEvent,
    "response.output_text.delta": t.ResponseOutputTextDeltaStreamingEvent,
    "response.output_text.done": t.ResponseOutputTextDoneStreamingEvent,
    "response.refusal.delta": t.ResponseRefusalDeltaStreamingEvent,
    "response.refusal.done": t.ResponseRefusalDoneStreamingEvent,
    "response.reasoning.delta": t.ResponseReasoningDeltaStreamingEvent,
    "response.reasoning.done": t.ResponseReasoningDoneStreamingEvent,
    "response.reasoning_summary_part.added": t.ResponseReasoningSummaryPartAddedStreamingEvent,
    "response.reasoning_summary_part.done": t.ResponseReasoningSummaryPartDoneStreamingEvent,
    "response.reasoning_summary_text.delta": t.ResponseReasoningSummaryDeltaStreamingEvent,
    "response.reasoning_summary_text.done": t.ResponseReasoningSummaryDoneStreamingEvent,
    "response.output_text.annotation.added": t.ResponseOutputTextAnnotationAddedStreamingEvent,
    "response.function_call_arguments.delta": t.ResponseFunctionCallArgumentsDeltaStreamingEvent,
    "response.function_call_arguments.done": t.ResponseFunctionCallArgumentsDoneStreamingEvent,
    "error": t.ErrorStreamingEvent,
}

TERMINAL = ("response.completed", "response.failed", "response.incomplete")


def problems(model, text):
    try:
        model.model_validate_json(text, strict=True)
        return []
    except Exception as e:  # pydantic.ValidationError: one line per issue
        return [str(e)]


def post(base, body, path="/responses"):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    return urllib.request.urlopen(req, timeout=60)


def read_sse(resp):
    """(event name, data text) pairs."""
    event, data = None, []
    for raw in resp:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield event, "\n".join(data)


def run_case(base, body, path):
    errors, events, final = [], [], None
    resp = post(base, body, path)
    if not body.get("stream"):
        text = resp.read().decode()
        model = t.CompactResource if path.endswith("/compact") else t.ResponseResource
        errors += problems(model, text)
        return {"errors": errors, "events": [], "response": json.loads(text)}
    last_seq = -1
    for name, text in read_sse(resp):
        data = json.loads(text)
        kind = data.get("type")
        events.append(kind)
        if name is not None and name != kind:
            errors.append(f"event name {name!r} differs from its type {kind!r}")
        seq = data.get("sequence_number")
        if not isinstance(seq, int) or seq <= last_seq:
            errors.append(f"{kind}: sequence_number {seq!r} after {last_seq}")
        else:
            last_seq = seq
        model = EVENT_MODELS.get(kind)
        if model is None:
            errors.append(f"{kind}: not an event type of the specification")
            continue
        errors += [f"{kind}: {p}" for p in problems(model, text)]
        if kind in TERMINAL:
            final = data["response"]
    if final is None:
        errors.append("the stream ended without a terminal event")
    return {"errors": errors, "events": events, "response": final}


def main():
    base, cases = sys.argv[1], json.loads(sys.argv[2])
    out = {}
    for case in cases:
        try:
            out[case["name"]] = run_case(base, case["body"], case.get("path", "/responses"))
        except Exception as e:
            out[case["name"]] = {"errors": [f"request failed: {e!r}"], "events": [], "response": None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
