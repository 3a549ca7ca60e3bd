#!/usr/bin/env python3
"""Where a profile's samples fell, by the function each sample was taken in (its leaf), grouped
into the parts of the stack a reader can act on. Input: inferno-collapse-perf --all output
(kernel frames end in _[k]). Prints a Markdown table, largest share first."""
import re
import sys
from collections import Counter

KERNEL_NET = re.compile(r"tcp|sock|skb|inet|ip_|netif|loopback|net_rx|napi|sk_")
# (A sample taken as interrupts come back on after a wake-up lands in _raw_spin_unlock_irq.)
KERNEL_SCHED = re.compile(
    r"futex|schedule|epoll|ep_poll|try_to_wake|hrtimer|finish_task_switch|ttwu|spin_unlock_irq"
)
USER = [
    ("allocator (malloc, free)", re.compile(r"malloc|free|_int_|realloc|tcache|unlink_chunk")),
    ("memcpy, memset", re.compile(r"memcpy|memmove|memset")),
    ("serde_json (reading and writing JSON)", re.compile(r"serde_json|serde_core|serde::")),
    ("Plugboard's own functions", re.compile(r"plugboard")),
    ("hyper, axum, reqwest, http (framing, bodies)",
     re.compile(r"hyper|axum|http::|http_body|bytes::|h2::|tower|httparse|reqwest|futures_util")),
    ("tokio (tasks, timers, I/O driver)", re.compile(r"tokio|mio")),
    ("tracing (log lines)", re.compile(r"tracing")),
    ("SQLite (usage rows)", re.compile(r"sqlite")),
]


def group(stack: str) -> str:
    frames = stack.split(";")
    leaf = frames[-1]
    if leaf.endswith("_[k]"):
        kernel = [f for f in frames if f.endswith("_[k]")]
        if any(KERNEL_NET.search(f) for f in kernel):
            return "kernel: TCP and sockets"
        if any(KERNEL_SCHED.search(f) for f in kernel):
            return "kernel: scheduling, wake-ups, futexes, timers"
        if any("page_fault" in f or "mmap" in f for f in kernel):
            return "kernel: page faults, mmap and munmap"
        return "kernel: other system calls"
    for name, pattern in USER:
        if pattern.search(leaf):
            return name
    return "other user space (libc, std, ...)"


def main() -> None:
    shares: Counter = Counter()
    for line in open(sys.argv[1]):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack:
            shares[group(stack)] += int(count)
    total = sum(shares.values()) or 1
    print("| where | share of the proxy's CPU |")
    print("|---|---|")
    for name, n in shares.most_common():
        print(f"| {name} | {100 * n / total:.1f} % |")


if __name__ == "__main__":
    main()
