#!/usr/bin/env python3
"""Scale harness of issue 14, item 1: CPU per heartbeat and user memory per session, this
project (heartbeat::tcp_server + N tcp_sessions, and heartbeat::session_pool on both sides)
against the minimal raw Asio heartbeat loop
(one steady_timer per connection, 16 bytes each way every second), client and server in two
processes pinned to the same CPU set.

For each session count, implementation and repetition: start the server, start the client with
N connections, wait until all are connected and `--warmup` seconds more, sample both processes
(getrusage user+system, RSS), wait `--window` seconds, sample again. Reported per point:
  cpu/heartbeat  (server CPU + client CPU over the window) / heartbeats exchanged in it
  mem/session    RSS growth of each process from before the first connection to the first
                 sample, divided by N (server, client, and both; and the heap in use, mallinfo2)
as medians with min-max over the repetitions, and the ratio of this project to the raw loop.
"""
import argparse
import datetime
import io
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import threading
import time


class Peer:
    """One scale_peer process, talked to over its stdin/stdout."""

    def __init__(self, args, cpus):
        cmd = (["taskset", "-c", cpus] if cpus else []) + args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no '{prefix}' line from {self.proc.args} in {timeout} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.proc.args} exited ({self.proc.wait()}) "
                                   f"before '{prefix}'")
            if line.startswith(prefix):
                return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}

    def sample(self):
        self.proc.stdin.write("sample\n")
        self.proc.stdin.flush()
        return self.expect("sample", 30)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()  # our own child, by its handle
                self.proc.wait()


def run_once(binary, impl, n, args):
    # The shared-table servers size their table for n (after their "ready" line, so it counts).
    server = Peer([binary, f"{impl}-server"] + ([str(n)] if impl in ("pool", "wheel") else []),
                  args.cpus)
    client = None
    try:
        ready = server.expect("ready", 10)
        client = Peer([binary, f"{impl}-client", str(ready["port"]), str(n)], args.cpus)
        client_ready = client.expect("ready", 10)
        client.expect("connected", 120)
        time.sleep(args.warmup)
        s0, c0 = server.sample(), client.sample()
        time.sleep(args.window)
        s1, c1 = server.sample(), client.sample()
        if c1["conns"] != n or s1["conns"] < n:
            raise RuntimeError(f"{impl} n={n}: connections lost (client {c1['conns']}, "
                               f"server {s1['conns']})")
        beats = c1["heartbeats"] - c0["heartbeats"]
        cpu_us = (s1["cpu_us"] - s0.get("cpu_end_us", s0["cpu_us"])) + \
                 (c1["cpu_us"] - c0.get("cpu_end_us", c0["cpu_us"]))
        return {
            "cpu_per_hb_us": cpu_us / beats,
            "hb_per_conn_s": beats / (n * args.window),
            "core_share": cpu_us / 1e6 / args.window,
            "mem_server": (s0["rss_kb"] - ready["rss_kb"]) * 1024 / n,
            "mem_client": (c0["rss_kb"] - client_ready["rss_kb"]) * 1024 / n,
            "heap_server": (s0["heap_b"] - ready["heap_b"]) / n,
            "heap_client": (c0["heap_b"] - client_ready["heap_b"]) / n,
        }
    finally:
        if client:
            client.stop()
        server.stop()


def fmt(values, unit="", digits=1):
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def machine_line():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {model}, "
            f"{os.cpu_count()} CPUs, load {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.path.join(here, "../../build/benchmarks/scale/scale_peer"))
    p.add_argument("--sessions", default="1000,5000,9000")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--impls", default="raw,hb,pool",
                   help="raw (the reference loop, always run), hb (tcp_server/tcp_session), "
                        "pool (heartbeat::session_pool on both sides), wheel (the shared-timer "
                        "prototype, wheel_heartbeats.hpp)")
    p.add_argument("--window", type=float, default=10.0, help="steady window, seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="after all connected, seconds")
    p.add_argument("--cpus", default=f"0-{os.cpu_count() - 1}",
                   help="CPU list both processes are pinned to (taskset -c); '' for none")
    p.add_argument("--append", metavar="FILE",
                   help="also append the tables, the exact command and a machine line to FILE "
                        "(e.g. benchmarks/RESULTS.md)")
    args = p.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"run_scale: no scale_peer at {args.bin} (build the scale_peer target)")
    sizes = [int(s) for s in args.sessions.split(",")]
    impls = ["raw"] + [i for i in args.impls.split(",") if i and i != "raw"]
    if any(i not in ("hb", "pool", "wheel") for i in impls[1:]):
        sys.exit("run_scale: --impls takes raw, hb, pool and wheel")
    if any(n <= 0 or n > 19000 for n in sizes):
        sys.exit("run_scale: --sessions must be in 1..19000 (open-file limit 20,000 per process)")

    started = time.monotonic()
    print(f"# scale: sessions {sizes}, {args.reps} reps, window {args.window} s, warm-up "
          f"{args.warmup} s, cpus '{args.cpus}', load {os.getloadavg()[0]:.2f}", flush=True)
    results = {}
    for n in sizes:
        for rep in range(args.reps):
            for impl in impls:  # interleaved, so drifting load hits them alike
                r = run_once(args.bin, impl, n, args)
                results.setdefault((n, impl), []).append(r)
                print(f"  n={n} rep={rep + 1} {impl}: cpu/hb {r['cpu_per_hb_us']:.2f} us, "
                      f"{r['hb_per_conn_s']:.2f} hb/conn/s, {100 * r['core_share']:.1f} % of a "
                      f"core, mem/session server {r['mem_server']:.0f} B client "
                      f"{r['mem_client']:.0f} B (heap {r['heap_server']:.0f} B, {r['heap_client']:.0f} B)",
                      flush=True)

    out = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, out
    print("\n| sessions | impl | CPU per heartbeat (µs) | heartbeats/conn/s | mem/session server"
          " (B) | mem/session client (B) | mem/session both (B) | of which heap, both (B) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for impl in impls:
            rs = results[(n, impl)]
            print(f"| {n} | {impl} | {fmt([r['cpu_per_hb_us'] for r in rs], digits=2)} | "
                  f"{fmt([r['hb_per_conn_s'] for r in rs], digits=2)} | "
                  f"{fmt([r['mem_server'] for r in rs], digits=0)} | "
                  f"{fmt([r['mem_client'] for r in rs], digits=0)} | "
                  f"{fmt([r['mem_server'] + r['mem_client'] for r in rs], digits=0)} | "
                  f"{fmt([r['heap_server'] + r['heap_client'] for r in rs], digits=0)} |")
    print("\n| sessions | impl | CPU per heartbeat / raw (target ≤ 0.8) | memory per session / "
          "raw (target ≤ 1.0) |")
    print("|---|---|---|---|")
    for n in sizes:
        raw = results[(n, "raw")]
        for impl in impls[1:]:
            hb = results[(n, impl)]
            cpu = [h["cpu_per_hb_us"] / r["cpu_per_hb_us"] for h, r in zip(hb, raw)]
            mem = [(h["mem_server"] + h["mem_client"]) / (r["mem_server"] + r["mem_client"])
                   for h, r in zip(hb, raw)]
            print(f"| {n} | {impl} | {fmt(cpu, '×', 2)} | {fmt(mem, '×', 2)} |")
    print(f"\nRatios are per repetition (each run next to its raw run); medians (min–max) over "
          f"{args.reps}; total {time.monotonic() - started:.0f} s.")
    sys.stdout = real_stdout
    print(out.getvalue(), flush=True)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as f:
            f.write(f"\n## Scale: sessions at 1 Hz vs the raw Asio heartbeat loop "
                    f"({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)\n\n")
            f.write(f"Command: `{' '.join(sys.argv)}`  \n")
            f.write(f"Machine: {machine_line()}\n")
            f.write(out.getvalue())


if __name__ == "__main__":
    main()
