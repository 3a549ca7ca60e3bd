// The window's wording and number formatting, under node (`node --test ui/tests/`). Run in
// the en-US locale, as scripts/test.sh does.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as f from "../lib/format.js";

test("counts read as people read them", () => {
  assert.equal(f.count(19315660), "19.3M");
  assert.equal(f.count(11196000), "11.2M");
  assert.equal(f.count(84800), "84.8K");
  assert.equal(f.count(999), "999");
  assert.equal(f.exact(19315660), "19,315,660");
});

test("one, not ones", () => {
  assert.equal(f.plural(1, "model"), "1 model");
  assert.equal(f.plural(0, "model"), "0 models");
  assert.equal(f.plural(12, "model"), "12 models");
});

test("money and durations", () => {
  assert.equal(f.money(0), "$0");
  assert.equal(f.money(0.00001), "<$0.0001");
  assert.equal(f.money(0.01234), "$0.0123");
  assert.equal(f.money(12.5), "$12.50");
  assert.equal(f.moneyTick(0.0123), "$0.012");
  assert.equal(f.moneyTick(2500), "$2.5K");
  assert.equal(f.duration(null), "–");
  assert.equal(f.duration(12.34), "12.3 ms");
  assert.equal(f.duration(700.04), "700 ms");
  assert.equal(f.duration(1500), "1.5 s");
});

test("the model map goes to text and back, and a bad line says which", () => {
  const map = { "gpt-*": "deepseek-chat", "o3": "deepseek-reasoner" };
  assert.deepEqual(f.textToMap(f.mapToText(map)), map);
  assert.deepEqual(f.textToMap("\n a = b \n\n"), { a: "b" });
  assert.throws(() => f.textToMap("no equals sign"), /"no equals sign" is not "requested = upstream"/);
});

test("a free id follows the taken ones", () => {
  assert.equal(f.freeId("deepseek", []), "deepseek");
  assert.equal(f.freeId("deepseek", ["deepseek", "deepseek-2"]), "deepseek-3");
});

test("Test connection in a sentence", () => {
  assert.deepEqual(f.describeTest({ ok: true, model_tried: "m", latency_ms: 12, models: ["m"] }), [true, "m answered in 12 ms; 1 model listed"]);
  assert.deepEqual(f.describeTest({ ok: true, model_tried: "m", latency_ms: 12, models: [] }), [true, "m answered in 12 ms"]);
  assert.deepEqual(f.describeTest({ ok: false, model_tried: null, error: "refused" }), [false, "refused"]);
});

test("a key is only ever shown masked, or said to be missing", () => {
  assert.equal(f.keyBadge({ key_mask: "sk-••••abcd", needs_key: true }), "key sk-••••abcd");
  assert.equal(f.keyBadge({ key_unreadable: true, needs_key: true }), "key locked in the keyring");
  assert.equal(f.keyBadge({ needs_key: true }), "no key");
  assert.equal(f.keyBadge({ needs_key: false }), "local, no key needed");
  assert.equal(f.keyBadge({ preset: "chatgpt", needs_key: false }), "your ChatGPT login");
});

test("the Custom preset's examples are not DeepSeek's", () => {
  const custom = f.placeholders({ id: "custom", name: "Custom (Chat Completions)", base_url: "http://127.0.0.1:8080/v1", default_model: null });
  assert.equal(custom.id, "my-server");
  assert.ok(!JSON.stringify(custom).toLowerCase().includes("deepseek"), JSON.stringify(custom));
  const ds = f.placeholders({ id: "deepseek", name: "DeepSeek", base_url: "https://api.deepseek.com/v1", default_model: "deepseek-chat" });
  assert.equal(ds.model_map, "gpt-* = deepseek-chat");
});

test("charts leave out providers with nothing to show", () => {
  const daily = [
    { day: "2026-12-01", provider: "ds", input_tokens: 10, output_tokens: 5 },
    { day: "2026-12-02", provider: "ds", input_tokens: 0, output_tokens: 1 },
    { day: "2026-12-02", provider: "idle", input_tokens: 0, output_tokens: 0 },
  ];
  const chart = f.byDayAndProvider(daily, (r) => r.input_tokens + r.output_tokens, (id) => id.toUpperCase());
  assert.deepEqual(chart.labels, ["2026-12-01", "2026-12-02"]);
  assert.deepEqual(chart.datasets, [{ label: "DS", data: [15, 1] }]);
});

test("a failed request reads as the provider's sentence", () => {
  const failed = { answered: false, status: "error_401", sentence: "DeepSeek rejected the key", error_class: "upstream_error", ts_ms: 0, model: "gpt-5.5", provider: "ds", upstream_model: "deepseek-chat", attempt: 2, local: false, input_tokens: 1234, cached_tokens: 0, output_tokens: 0, reasoning_tokens: 0, first_event_ms: null, total_ms: 1500, stream: true, priced: true, cost_usd: 0, request_id: "req_1" };
  assert.equal(f.requestOutcome(failed), "DeepSeek rejected the key");
  assert.equal(f.requestOutcome({ ...failed, answered: true, status: "completed" }), "completed");
  const detail = Object.fromEntries(f.requestDetail(failed, () => "DeepSeek"));
  assert.equal(detail.Outcome, "DeepSeek rejected the key (error_401, upstream_error)");
  assert.equal(detail.Provider, "DeepSeek · deepseek-chat · attempt 2");
  assert.equal(detail.Tokens, "1,234 in (0 cached) · 0 out (0 reasoning)");
  assert.equal(detail.Time, "first event – · total 1.5 s · streamed");
});

test("the check's headline counts failures among real steps", () => {
  const steps = [{ status: "passed" }, { status: "failed" }, { status: "info" }, { status: "failed" }];
  assert.equal(f.checkHeadline({ steps }), "✗ 2 of 3 steps failed");
  assert.equal(f.checkHeadline({ steps: [{ status: "passed" }] }), "✓ Codex check passed");
});

test("a request's time: the time today, the day and time before", () => {
  const now = new Date(2026, 11, 3, 15, 0, 0).getTime();
  assert.equal(f.shortWhen(new Date(2026, 11, 3, 9, 5, 7).getTime(), now), "9:05:07 AM");
  assert.equal(f.shortWhen(new Date(2026, 11, 1, 21, 30).getTime(), now), "Dec 1, 09:30 PM");
});

test("long session ids are cut for the table", () => {
  assert.equal(f.shortSession("0199f2c4-aaaa-bbbb"), "0199f2c4-aaaa…");
  assert.equal(f.shortSession("short"), "short");
});
