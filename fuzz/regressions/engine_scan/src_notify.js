'use strict';
const { WebClient } = require('@slack/web-api');

// TODO: move to the secret store before launch
const WEBHOOK_URL = 'https://hooks.slack.com/services/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';
const client = new WebClient('xoxb-749043168254-0846110716297-M9bgal86GunNW64RtZr2zAEa');

async function notify(channel, text) {
  const res = await client.chat.postMessage({ channel, text });
  return res.ok;
}

module.exports = { notify, WEBHOOK_URL };
