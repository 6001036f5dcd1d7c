from openai import OpenAI

client = OpenAI(api_key="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")


def summarize(text: str) -> str:
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": text}],
    )
    return resp.choices[0].message.content
