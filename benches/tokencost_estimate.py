"""The peer of `batchbench estimate --strategies sequential`: Python tokencost computing the same
cost (one request per prompt: system instructions + user prompt, OpenAI's chat-message token
recipe, plus N output tokens per answer) for every prompt of a JSONL dataset, streamed.

Usage: python tokencost_estimate.py FILE [MODEL] [OUTPUT_TOKENS]
Prints: prompts, input tokens, cost (USD), seconds, prompts/s.
"""

import json
import logging
import sys
import time

from tokencost import calculate_cost_by_tokens, calculate_prompt_cost, count_message_tokens


def main() -> None:
    # tokencost logs a warning per call for gpt-4o models; silence it so that it is not timed.
    logging.disable(logging.WARNING)
    path = sys.argv[1]
    model = sys.argv[2] if len(sys.argv) > 2 else "gpt-4o-mini"
    output_tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    start = time.perf_counter()
    instructions = ""
    prompts = 0
    input_tokens = 0
    cost = 0
    output_cost = calculate_cost_by_tokens(output_tokens, model, "output")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            if "prompt" not in record:
                instructions = record.get("instructions", instructions)
                continue
            messages = []
            if instructions:
                messages.append({"role": "system", "content": instructions})
            messages.append({"role": "user", "content": record["prompt"]})
            cost += calculate_prompt_cost(messages, model) + output_cost
            prompts += 1
            if limit and prompts >= limit:
                break
            if prompts <= 1000:
                input_tokens += count_message_tokens(messages, model)
    elapsed = time.perf_counter() - start
    print(f"prompts {prompts}")
    print(f"input_tokens_first_1000 {input_tokens}")
    print(f"cost_usd {cost}")
    print(f"seconds {elapsed:.3f}")
    print(f"prompts_per_s {prompts / elapsed:.0f}")


if __name__ == "__main__":
    main()
