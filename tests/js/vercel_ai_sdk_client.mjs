// The Vercel AI SDK's OpenAI provider (Responses API, `store` left at its default of true)
// through Plugboard: a tool turn the SDK runs itself, then a follow-up that sends the earlier
// answer back as `item_reference`s. Prints what it saw as one JSON object.
// Usage: node vercel_ai_sdk_client.mjs BASE_URL
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, tool, stepCountIs } from 'ai';
import { z } from 'zod';

const openai = createOpenAI({ baseURL: process.argv[2], apiKey: 'sk-plugboard-test' });
const model = openai.responses('gpt-5.5');
const tools = {
  get_weather: tool({
    description: 'Get the weather for a city',
    inputSchema: z.object({ location: z.string() }),
    execute: async ({ location }) => ({ location, forecast: 'sunny', celsius: 21 }),
  }),
};

const first = await generateText({
  model,
  tools,
  stopWhen: stepCountIs(3),
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
});
const followUp = await generateText({
  model,
  tools,
  messages: [
    { role: 'user', content: 'What is the weather in Paris?' },
    ...first.response.messages,
    { role: 'user', content: 'And tomorrow?' },
  ],
});

console.log(JSON.stringify({
  first_text: first.text,
  first_steps: first.steps.length,
  follow_up_text: followUp.text,
  follow_up_finish: followUp.finishReason,
}));
