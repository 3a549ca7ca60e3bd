// A client written against the Open Responses specification (the AI SDK's
// @ai-sdk/open-responses provider) through Plugboard: plain text, a tool round trip run by
// the SDK itself, and a stream. Prints what it saw as one JSON object.
// Usage: node open_responses_client.mjs BASE_URL
import { createOpenResponses } from '@ai-sdk/open-responses';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';

const base = process.argv[2];
const provider = createOpenResponses({ name: 'plugboard', url: `${base}/responses` });
const model = provider('gpt-5.5');

const text = await generateText({ model, prompt: 'Say hello.' });

const toolCalls = [];
const weather = await generateText({
  model,
  prompt: 'What is the weather in Paris?',
  tools: {
    get_weather: tool({
      description: 'Get the weather for a city',
      inputSchema: z.object({ location: z.string() }),
      execute: async ({ location }) => {
        toolCalls.push(location);
        return { location, forecast: 'sunny', celsius: 21 };
      },
    }),
  },
  stopWhen: stepCountIs(3),
});

const stream = streamText({ model, prompt: 'Count to three.' });
let streamed = '';
let deltas = 0;
for await (const delta of stream.textStream) {
  streamed += delta;
  deltas += 1;
}

console.log(JSON.stringify({
  text: text.text,
  text_finish: text.finishReason,
  text_usage: text.usage,
  tool_calls: toolCalls,
  weather_text: weather.text,
  weather_steps: weather.steps.length,
  weather_finish: weather.finishReason,
  streamed,
  deltas,
  stream_finish: await stream.finishReason,
  stream_usage: await stream.usage,
}));
