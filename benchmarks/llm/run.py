"""LLM client benchmark: bounded concurrency vs the ideal wall time, and a cached pass.

N requests go to the local test server (``factory.testing``), run in its own process as the real
API would be, which answers each after L seconds. With concurrency C the ideal wall time is
N*L/C. Three passes over the same N requests:

1. the bare ``anthropic.AsyncAnthropic`` SDK behind a semaphore of C (the baseline: what the
   SDK alone costs);
2. ``AnthropicClient`` (our retries, accounting and concurrency bound) inside ``CachedClient``;
3. the same ``CachedClient`` again: every response should come from the cache, 0 network calls.

Prints wall time, the ideal and their ratio (target < 1.3), our overhead over the bare SDK, the
most requests the server saw at once (must be C) and the cached pass's network calls.

    python benchmarks/llm/run.py [--requests 200] [--latency 0.05] [--concurrency 16]
                                 [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import anthropic

from factory.llm import (
    AnthropicClient,
    CachedClient,
    ChatMessage,
    LLMRequest,
    ResponseCache,
)
from factory.llm.anthropic_client import build_message_params


def make_requests(n: int, tag: str = "") -> list[LLMRequest]:
    """N distinct requests sharing one system prompt and few-shot prefix."""
    few_shot = [
        ChatMessage(role="user", content="What is 1 + 1?"),
        ChatMessage(role="assistant", content="\\boxed{2}"),
    ]
    return [
        LLMRequest(
            model="claude-haiku-4-5",
            system="Solve the problem; put the final answer in \\boxed{}.",
            few_shot=few_shot,
            messages=[ChatMessage(role="user", content=f"What is {i} + {i}?")],
            max_tokens=256,
            prompt_version=tag,
        )
        for i in range(n)
    ]


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_test/stats") as response:
        return json.load(response)


async def bare_sdk_pass(
    base_url: str, requests: list[LLMRequest], concurrency: int
) -> tuple[float, float]:
    sdk = anthropic.AsyncAnthropic(api_key="bench", base_url=base_url, max_retries=0)
    params = [build_message_params(r) for r in requests]
    semaphore = asyncio.Semaphore(concurrency)

    async def one(p: dict[str, Any]) -> Any:
        async with semaphore:
            return await sdk.messages.create(**p)

    try:
        await one(build_message_params(make_requests(1, "warm-up-bare")[0]))
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(p) for p in params))
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await sdk.close()


async def client_passes(
    base_url: str, requests: list[LLMRequest], concurrency: int, cache_dir: Path, server_pid: int
) -> tuple[float, float, float, int, float, int]:
    inner = AnthropicClient(api_key="bench", base_url=base_url, max_concurrency=concurrency)
    client = CachedClient(inner, ResponseCache(cache_dir / "cache.sqlite"))
    try:
        await client.complete(make_requests(1, "warm-up-ours")[0])
        before = stats(base_url)
        started, cpu = time.perf_counter(), time.process_time()
        server_cpu = process_cpu_s(server_pid)
        await asyncio.gather(*(client.complete(r) for r in requests))
        network_s, network_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        server_cpu_s = process_cpu_s(server_pid) - server_cpu
        middle = stats(base_url)
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.complete(r) for r in requests))
        cached_s = time.perf_counter() - started
        after = stats(base_url)
        assert all(r.from_cache for r in responses)
    finally:
        await client.aclose()
    return (
        network_s,
        network_cpu_s,
        server_cpu_s,
        middle["messages"] - before["messages"],
        cached_s,
        after["messages"] - middle["messages"],
    )


def bench(n: int, latency: float, concurrency: int) -> dict[str, float]:
    server = subprocess.Popen(
        [sys.executable, "-m", "factory.testing.anthropic_server", "--delay", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        bare_s, bare_cpu_s = asyncio.run(
            bare_sdk_pass(base_url, make_requests(n, "bare"), concurrency)
        )
        with tempfile.TemporaryDirectory() as tmp:
            network_s, cpu_s, server_cpu_s, calls, cached_s, cached_calls = asyncio.run(
                client_passes(
                    base_url, make_requests(n, "ours"), concurrency, Path(tmp), server.pid
                )
            )
        max_in_flight = stats(base_url)["max_in_flight"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    ideal = n * latency / concurrency
    return {
        "requests": n,
        "latency_s": latency,
        "concurrency": concurrency,
        "ideal_s": ideal,
        "bare_sdk_s": bare_s,
        "client_s": network_s,
        "client_ratio_to_ideal": network_s / ideal if ideal else float("nan"),
        "bare_sdk_ratio_to_ideal": bare_s / ideal if ideal else float("nan"),
        "client_overhead_vs_bare_sdk": network_s / bare_s,
        "bare_sdk_cpu_ms_per_request": 1000 * bare_cpu_s / n,
        "client_cpu_ms_per_request": 1000 * cpu_s / n,
        # One event loop cannot finish faster than the CPU its requests need.
        "cpu_floor_s": cpu_s,
        "server_cpu_ms_per_request": 1000 * server_cpu_s / n,
        "client_network_calls": calls,
        "max_in_flight": max_in_flight,
        "cached_s": cached_s,
        "cached_network_calls": cached_calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    r = bench(args.requests, args.latency, args.concurrency)
    print(
        f"{r['requests']} requests, server latency {r['latency_s']}s, "
        f"concurrency {r['concurrency']}: ideal N*L/C = {r['ideal_s']:.2f}s"
    )
    print(
        f"  bare SDK + semaphore:   {r['bare_sdk_s']:.2f}s "
        f"(ratio {r['bare_sdk_ratio_to_ideal']:.2f}; "
        f"{r['bare_sdk_cpu_ms_per_request']:.1f} ms client CPU per request)"
    )
    print(
        f"  AnthropicClient:        {r['client_s']:.2f}s "
        f"(ratio {r['client_ratio_to_ideal']:.2f}, target < 1.3; "
        f"{r['client_overhead_vs_bare_sdk']:.2f}x the bare SDK); "
        f"{r['client_network_calls']} calls, max in flight {r['max_in_flight']}"
    )
    print(
        f"  client CPU: {r['client_cpu_ms_per_request']:.1f} ms per request, "
        f"{r['cpu_floor_s']:.2f}s in all: the wall time cannot go below max(ideal, CPU); "
        f"test server CPU: {r['server_cpu_ms_per_request']:.1f} ms per request"
    )
    print(
        f"  CachedClient 2nd pass:  {r['cached_s']:.3f}s, "
        f"{r['cached_network_calls']} network calls (target 0)"
    )
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
