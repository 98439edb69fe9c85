"""Sales-launch rush on the real stack (``make bench``).

Starts the whole stack on PostgreSQL (its own Kafka broker, fresh databases, the three services
and the gateway as processes), creates a project with 200 units and 1,000 prospects (5 per
unit), then fires 1,000 bookings at once through the gateway and follows each one to its final
status (``POST /bookings?wait=30``, as the web client books: the answer carries the outcome;
``GET /bookings/{id}?wait=30`` for one still pending). Prints bookings per second, request→final-status
latency p50/p95/p99, the outcome counts, each service's resident memory at the end of the rush,
and the invariant checker's result.

In the same run it measures the baseline a team would otherwise build: the same bookings, each
ONE local transaction on a single PostgreSQL database behind an equally thin HTTP endpoint
(``tests/bench/baseline_app.py``), and prints the saga's figures as ratios to it.

    .venv/bin/python tests/bench/sales_launch.py [--runs N] [--units 200] [--contenders 5] …
    make bench BENCH_ARGS="--runs 3"

Exit status: 1 when the invariant checker finds a violation or the outcome counts are wrong
(not exactly one confirmed booking per unit, anything left pending, a failed request); 2 with
``--strict`` when a performance target is missed; else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from harness.client import Api  # noqa: E402
from harness.invariants import Databases, check  # noqa: E402
from harness.stack import ARTIFACTS, SERVICES, Stack, free_port  # noqa: E402
from nyprod_kit.testing import create_postgres_database, drop_postgres_database  # noqa: E402

# what a request of the benchmark's own client may fail with besides an HTTP status
HTTP_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)

FINAL = {"confirmed", "rejected", "cancelled"}
TARGET_P50_MS = 50.0
TARGET_THROUGHPUT = 200.0
TARGET_RSS_MB = 150.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# measurements


@dataclass
class Rush:
    """One side's rush: per booking the latency and final status."""

    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, bookings that reached a final status
    # the same, but from when the POST got a free client connection (without the client's queue)
    sent_latencies: list[float] = field(default_factory=list)
    post_latencies: list[float] = field(default_factory=list)  # the POST's own round trip, from sending it
    outcomes: Counter = field(default_factory=Counter)  # "confirmed", "rejected:unit_not_available", "not final", "error:…"
    first_post: float = 0.0
    last_final: float = 0.0
    posted: int = 0
    deadline: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used during the rush, per process group

    @property
    def elapsed(self) -> float:
        return max(self.last_final - self.first_post, 1e-9)

    @property
    def throughput(self) -> float:
        """Bookings that reached a final status per second (all of them, when all did)."""
        return len(self.latencies) / self.elapsed

    def pct(self, p: int, sent: bool = False) -> float:
        values = self.sent_latencies if sent else self.latencies
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000

    def count(self, prefix: str) -> int:
        return sum(n for k, n in self.outcomes.items() if k == prefix or k.startswith(prefix + ":"))


async def fire(
    plan: list[tuple[str, str]],
    post: Callable[[str, str], Awaitable[Reply]],
    follow: Callable[[str], Awaitable[Reply]] | None,
    name: str,
    deadline_s: float,
    rate: float | None = None,
) -> Rush:
    """All bookings at once — or, with ``rate``, arriving at that many per second whether or not
    the earlier ones are done (open loop, as agents do not wait for each other). t0 is taken just
    before each POST (so it includes waiting for one of the client's connections); the latency
    ends when the answer carrying a final status arrives."""
    rush = Rush(name, posted=len(plan), deadline=deadline_s)
    t0s: list[float] = []
    ends: list[float] = []
    start = asyncio.Event()

    async def one(n: int, prospect_id: str, unit_id: str) -> None:
        await start.wait()
        if rate:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        t0 = time.perf_counter()
        t0s.append(t0)
        give_up = t0 + deadline_s
        try:
            resp = await post(prospect_id, unit_id)
            sent_at = getattr(resp, "sent_at", t0)
            rush.post_latencies.append(time.perf_counter() - sent_at)
            if resp.status_code not in (200, 201, 202):
                rush.outcomes[f"error:POST {resp.status_code}"] += 1
                return
            body = resp.json()
            booking_id, status = body["booking_id"], body["status"]
            polls = 0
            while status not in FINAL and follow is not None and time.perf_counter() < give_up and polls < 10:
                polls += 1
                resp = await follow(booking_id)
                if resp.status_code != 200:
                    rush.outcomes[f"error:GET {resp.status_code}"] += 1
                    return
                body = resp.json()
                status = body["status"]
        except HTTP_ERRORS as exc:
            rush.outcomes[f"error:{type(exc).__name__}"] += 1
            return
        t1 = time.perf_counter()
        if status in FINAL:
            rush.latencies.append(t1 - t0)
            rush.sent_latencies.append(t1 - sent_at)
            ends.append(t1)
            rush.outcomes[status + (f":{body.get('reason')}" if body.get("reason") else "")] += 1
        else:
            rush.outcomes["not final"] += 1  # still pending when the benchmark stopped waiting

    tasks = [asyncio.create_task(one(n, p, u)) for n, (p, u) in enumerate(plan)]
    await asyncio.sleep(0)  # every task is now waiting on the start signal
    started = time.perf_counter()
    start.set()
    # a booking stops polling at its deadline; its last ?wait=30 answer comes at most ~35 s later
    _done, late = await asyncio.wait(tasks, timeout=deadline_s + 60)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    if late:
        rush.outcomes["not final"] += len(late)
    rush.first_post = min(t0s) if t0s else 0.0
    rush.last_final = max(ends) if ends else rush.first_post
    return rush


def arrival(args: argparse.Namespace) -> str:
    return f"arriving at {args.rate:g}/s" if args.rate else "at once"


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def service_pid(proc: subprocess.Popen, name: str) -> int:
    """The process running ``python -m <name>``: the Popen itself, or else one of its children."""
    def cmdline(pid: int) -> list[str]:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return []

    if name in cmdline(proc.pid):
        return proc.pid
    try:
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                if name in cmdline(int(child)):
                    return int(child)
    except OSError:
        pass
    return proc.pid


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def pids_named(comm: str) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


class CpuMeter:
    """CPU seconds spent by named processes (and all PostgreSQL backends, and the machine)
    between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def _sample(self) -> dict[str, float]:
        sample = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        sample["bench client"] = time.process_time()
        # short-lived PostgreSQL backends come and go: a lower bound, from the ones alive at both ends
        sample["postgresql"] = sum(cpu_seconds(pid) for pid in pids_named("postgres"))
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
        sample["machine busy"] = (sum(parts) - parts[3] - parts[4]) / CLK_TCK
        sample["machine total"] = sum(parts) / CLK_TCK
        return sample

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        return {k: after[k] - self.before.get(k, 0.0) for k in after}


def plan_for(prospects_by_unit: list[list[str]], units: list[str], seed: int) -> list[tuple[str, str]]:
    plan = [(p, u) for u, ps in zip(units, prospects_by_unit, strict=True) for p in ps]
    random.Random(seed).shuffle(plan)
    return plan


async def bounded(concurrency: int, factories: list[Callable[[], Awaitable]]) -> list:
    sem = asyncio.Semaphore(concurrency)

    async def run(factory: Callable[[], Awaitable]):  # noqa: ANN202
        async with sem:
            return await factory()

    return await asyncio.gather(*(run(f) for f in factories))


@dataclass
class Reply:
    """An answer as the benchmark reads it."""

    status_code: int
    text: str
    sent_at: float  # when the request got one of the client's connections

    def json(self) -> dict:
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.text[:300]}")


class RushClient:
    """``connections`` keep-alive connections for the rush: a request waits for a free one (that
    wait counts in its latency, as in any client pool). aiohttp, whose C HTTP parser keeps the
    load generator's share of the machine's two cores small (a pure-Python client spent about
    1 ms of CPU per call, more than the gateway it measures)."""

    def __init__(self, connections: int) -> None:
        self.free = asyncio.Semaphore(connections)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=45),
        )

    async def request(self, method: str, url: str, *, timeout: float | None = None, **kw) -> Reply:  # noqa: ANN003
        options = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout else {}
        async with self.free:
            sent_at = time.perf_counter()
            async with self.session.request(method, url, **kw, **options) as resp:
                return Reply(resp.status, await resp.text(), sent_at)

    async def get(self, url: str, **kw) -> Reply:  # noqa: ANN003
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw) -> Reply:  # noqa: ANN003
        return await self.request("POST", url, **kw)

    async def __aenter__(self) -> RushClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()


def rush_client(connections: int) -> RushClient:
    return RushClient(connections)


def print_rush(rush: Rush) -> None:
    print(f"  bookings: {len(rush.latencies)} of {rush.posted} final in {rush.elapsed:.2f} s from the first POST to the last final status "
          f"→ {rush.throughput:.0f} bookings/s")
    print(f"  latency request→final status: p50 {rush.pct(50):.0f} ms, p95 {rush.pct(95):.0f} ms, p99 {rush.pct(99):.0f} ms"
          f" (min {min(rush.latencies, default=0) * 1000:.0f}, max {max(rush.latencies, default=0) * 1000:.0f})")
    print(f"  the same from when the POST got a client connection: p50 {rush.pct(50, True):.0f} ms, "
          f"p95 {rush.pct(95, True):.0f} ms, p99 {rush.pct(99, True):.0f} ms")
    if rush.post_latencies:
        posts = sorted(rush.post_latencies)
        print(f"  the POST's own answer (it waits for the final status): p50 {1000 * posts[len(posts) // 2]:.0f} ms, "
              f"p95 {1000 * posts[int(len(posts) * 0.95) - 1]:.0f} ms")
    print(f"  outcomes: confirmed {rush.count('confirmed')}, rejected {rush.count('rejected')}, "
          f"still pending after {rush.deadline:.0f} s {rush.count('not final')}, "
          f"errors {rush.count('error')}  {dict(sorted(rush.outcomes.items()))}")
    if rush.cpu:
        wall = rush.elapsed
        parts = ", ".join(f"{k} {v:.2f}" for k, v in rush.cpu.items() if not k.startswith("machine"))
        busy = rush.cpu.get("machine busy", 0.0)
        total = rush.cpu.get("machine total", 0.0) or 1.0
        cores = os.cpu_count() or 1
        print(f"  CPU seconds during the rush ({wall:.2f} s wall, {cores} cores = {cores * wall:.2f} CPU-s): {parts}; "
              f"machine {100 * busy / total:.0f}% busy")


def check_outcomes(rush: Rush, n_units: int) -> list[str]:
    problems = []
    expected_rejected = rush.posted - n_units
    if rush.count("confirmed") != n_units:
        problems.append(f"{rush.name}: {rush.count('confirmed')} confirmed, expected {n_units}")
    if rush.outcomes.get("rejected:unit_not_available", 0) != expected_rejected or rush.count("rejected") != expected_rejected:
        problems.append(f"{rush.name}: rejected {dict((k, v) for k, v in rush.outcomes.items() if k.startswith('rejected'))}, "
                        f"expected {expected_rejected} rejected:unit_not_available")
    if rush.count("not final"):
        problems.append(f"{rush.name}: {rush.count('not final')} bookings still pending {rush.deadline:.0f} s after their POST")
    if rush.count("error"):
        problems.append(f"{rush.name}: {rush.count('error')} failed requests")
    return problems


# ---------------------------------------------------------------------------------------------
# the saga on the real stack


@dataclass
class SagaRun:
    rush: Rush
    rss: dict[str, float | None]
    violations: list[str]
    outcome_problems: list[str]
    probe: list[float]
    setup_s: float
    quiet_s: float


async def probe_latency(n: int, book: Callable[[str, str], Awaitable[float]], pairs: list[tuple[str, str]]) -> list[float]:
    """Unloaded latency: bookings one at a time on free units (a failed one is reported and skipped)."""
    out = []
    for p, u in pairs[:n]:
        try:
            out.append(await book(p, u))
        except (RuntimeError, *HTTP_ERRORS) as exc:
            print(f"  probe booking failed: {exc}")
    return out


async def wait_quiet(dbs: Databases, timeout: float) -> tuple[list[str], float]:
    """The invariant checker, repeated until it passes (events settle within a second or two) or
    the time is up; returns the last result and how long it took."""
    t0 = time.monotonic()
    problems: list[str] = []
    for _ in range(int(timeout / 0.5) + 1):
        problems = await check(dbs)
        if not problems or time.monotonic() - t0 > timeout:
            break
        await asyncio.sleep(0.5)
    return problems, time.monotonic() - t0


async def run_saga(args: argparse.Namespace, run_no: int) -> SagaRun:
    n_units, contenders = args.units, args.contenders
    tmp = Path(tempfile.mkdtemp(prefix="nyprod-bench-"))
    stack = Stack(db="postgres", tmp=tmp)
    log(f"saga run {run_no}: starting the stack (own Kafka, PostgreSQL databases, 4 processes)")
    t_setup = time.monotonic()
    api: Api | None = None
    try:
        await stack.start()
        log(f"stack {stack.run_id} up in {time.monotonic() - t_setup:.1f} s (logs: {ARTIFACTS}/<service>-{stack.run_id}.log): "
            + ", ".join(f"{n} :{stack.ports[n]}" for n in SERVICES) + f", kafka :{stack.ports['kafka']}")
        api = await Api.login(stack.gateway_url)
        project = await api.project(f"Brf Säljstart {stack.run_id}")
        total_units = n_units + args.probes
        units = await bounded(args.setup_concurrency, [
            (lambda i=i: api.unit(project["id"], name=f"A-{i + 1:04d}")) for i in range(total_units)
        ])
        unit_ids = [u["id"] for u in units]

        async def prospect(i: int, unit_id: str) -> str:
            body = {"first_name": "Åsa", "last_name": f"Öberg-{i:05d}", "email": f"asa.oberg.{i}@example.se",
                    "phone": f"070-{i:07d}", "interests": [unit_id]}
            deadline = time.monotonic() + 60
            while True:  # the prospects service learns of a new unit from its event, a moment later
                resp = await api.http.post("/prospects", json=body)
                if resp.status_code != 404 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert resp.status_code == 201, f"POST /prospects → {resp.status_code} {resp.text}"
            return resp.json()["id"]

        # the prospects service knows the units once one interested in the last unit is accepted
        first = await prospect(0, unit_ids[-1])
        prospects_by_unit: list[list[str]] = [[] for _ in range(n_units)]
        slots = [(k, c) for k in range(n_units) for c in range(contenders)]
        ids = await bounded(args.setup_concurrency, [
            (lambda i=i, k=k: prospect(i + 1, unit_ids[k])) for i, (k, _c) in enumerate(slots)
        ])
        for (k, _c), pid in zip(slots, ids, strict=True):
            prospects_by_unit[k].append(pid)
        probe_pairs = [(first if j == args.probes - 1 else await prospect(len(slots) + 1 + j, unit_ids[n_units + j]), unit_ids[n_units + j])
                       for j in range(args.probes)]
        # let the setup's events drain so the rush starts on a quiet system
        for _ in range(60):
            if not await busy_outboxes(stack):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        setup_s = time.monotonic() - t_setup
        log(f"setup done in {setup_s:.1f} s: {len(unit_ids)} units, {len(slots) + args.probes} prospects")

        plan = plan_for(prospects_by_unit, unit_ids[:n_units], seed=args.seed + run_no)
        pids = {name: service_pid(stack.procs[name], name) for name in SERVICES}
        kafka_pid = read_pid(tmp / "run" / "kafka" / "kafka.pid")
        meter = CpuMeter({**pids, **({"kafka": kafka_pid} if kafka_pid else {})})
        profilers = start_profilers(args.py_spy, pids, stack.run_id) if args.py_spy else []
        meter.start()
        await asyncio.sleep(3.0)
        idle = meter.stop()
        print("  CPU while idle before the rush (% of one core): " + ", ".join(
            f"{k} {100 * v / 3.0:.0f}%" for k, v in idle.items() if k in pids or k == "kafka"))
        async with rush_client(args.connections) as client:
            headers = dict(api.http.headers)
            base = f"{stack.gateway_url}/api/v1"

            def post(p: str, u: str) -> Awaitable[Reply]:
                # as the web client books: the request and the wait for its outcome in one call
                return client.post(f"{base}/bookings", json={"prospect_id": p, "unit_id": u}, params={"wait": 30}, headers=headers)

            def follow(booking_id: str) -> Awaitable[Reply]:
                return client.get(f"{base}/bookings/{booking_id}", params={"wait": 30}, headers=headers)

            log(f"rush: {len(plan)} bookings {arrival(args)} through the gateway ({args.connections} connections)")
            rush_started = datetime.now(UTC)
            meter.start()
            rush = await fire(plan, post, follow, "saga", args.deadline, args.rate)
            rush.cpu = meter.stop()
            rss = {name: rss_mb(pid) for name, pid in pids.items()}
            await stop_profilers(profilers)
            print_rush(rush)
            print("  resident memory at the end of the rush: " + ", ".join(f"{n} {v:.0f} MB" if v else f"{n} ?" for n, v in rss.items()))

            dbs = Databases(units=stack.database_urls["units"], prospects=stack.database_urls["prospects"], buyers=stack.database_urls["buyers"])
            violations, quiet_s = await wait_quiet(dbs, args.quiet_timeout)
            log(f"invariants after the rush: {len(violations)} violation(s) (checked until quiet: {quiet_s:.1f} s)")
            for v in violations[:5]:
                print(f"  not (yet) quiet: {v}")
            if args.stages:
                await stage_report(stack, rush_started)

            async def book_one(p: str, u: str) -> float:
                t0 = time.perf_counter()
                r = await post(p, u)
                if r.status_code not in (200, 202):
                    raise RuntimeError(f"probe booking: POST /bookings → {r.status_code} {r.text[:300]}")
                b = r.json()
                for _ in range(10):
                    if b.get("status") in FINAL:
                        break
                    r = await follow(b["booking_id"])
                    if r.status_code != 200:
                        raise RuntimeError(f"probe booking: GET /bookings/{b['booking_id']} → {r.status_code} {r.text[:300]}")
                    b = r.json()
                return time.perf_counter() - t0

            probes_started = datetime.now(UTC)
            probe = await probe_latency(args.probes, book_one, probe_pairs)
        if probe:
            print(f"  unloaded latency ({len(probe)} bookings one at a time after the rush): "
                  f"median {statistics.median(probe) * 1000:.0f} ms, max {max(probe) * 1000:.0f} ms")
            if args.stages:
                print("  the same by stage:")
                await stage_report(stack, probes_started)
            violations, _ = await wait_quiet(dbs, args.quiet_timeout)
        for v in violations[:20]:
            print(f"  VIOLATION: {v}")
        print(f"  invariant checker: {len(violations)} violation(s)")
        return SagaRun(rush, rss, violations, check_outcomes(rush, n_units), probe, setup_s, quiet_s)
    finally:
        if api is not None:
            await api.close()
        log("stopping the stack")
        await stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def start_profilers(py_spy: str, pids: dict[str, int], run_id: str) -> list[tuple[subprocess.Popen, Path]]:
    """py-spy on every service during the rush (sampling without pausing the process), written
    as collapsed stacks to test-artifacts/profiles/; it is not installed by the project."""
    out_dir = ROOT / "test-artifacts" / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for name, pid in pids.items():
        out = out_dir / f"{name}-{run_id}.txt"
        procs.append((subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--rate", "100", "--nonblocking", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ), out))
    return procs


async def stop_profilers(procs: list[tuple[subprocess.Popen, Path]]) -> None:
    for proc, _out in procs:
        proc.send_signal(signal.SIGINT)
    for proc, out in procs:
        try:
            await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(f"  profile: {out}")


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


async def stage_report(stack: Stack, since: datetime) -> None:
    """Where the time went, from the services' own outbox and inbox timestamps: for every event
    type each service wrote, when (relative to the start of the rush) and how long until its relay
    took it to publish; for every event type each service handled, at what rate and how long
    after that (publishing and the queue in front of that consumer)."""
    written: list[tuple[str, str, str, datetime, datetime | None]] = []
    handled: list[tuple[str, str, str, datetime]] = []
    for name in ("prospects", "units", "buyers"):
        engine = create_async_engine(stack.database_urls[name])
        try:
            async with engine.connect() as conn:
                written += [(name, str(r.event_id), r.event_type, r.created_at, r.sent_at) for r in (await conn.execute(
                    text("SELECT event_id, event_type, created_at, sent_at FROM outbox WHERE created_at >= :t"), {"t": since}))]
                handled += [(name, str(r.event_id), r.event_type, r.handled_at) for r in (await conn.execute(
                    text("SELECT event_id, event_type, handled_at FROM inbox WHERE handled_at >= :t"), {"t": since}))]
        finally:
            await engine.dispose()
    sent_at = {eid: sent for _s, eid, _t, _c, sent in written if sent is not None}

    def rel(t: datetime) -> float:
        return (t - since).total_seconds()

    def spread(values: list[float]) -> str:
        if not values:
            return "-"
        values = sorted(values)
        return f"{1000 * values[len(values) // 2]:.0f}/{1000 * values[int(len(values) * 0.95) - (len(values) >= 20)]:.0f}/{1000 * values[-1]:.0f}"

    def table(who: str, lag_title: str, rows: list[tuple], lag: Callable[[tuple], float | None]) -> None:
        """Rows are (service, event_id, event_type, at, …), grouped by service and event type."""
        print(f"    {who:<10} {'event':<24} {'count':>6} {'first s':>8} {'last s':>8} {'rate/s':>7}  {lag_title}")
        groups: dict[tuple[str, str], list] = {}
        for row in rows:
            groups.setdefault((row[0], row[2]), []).append(row)
        for (svc, etype), group in sorted(groups.items(), key=lambda kv: min(r[3] for r in kv[1])):
            times = [rel(r[3]) for r in group]
            span = max(times) - min(times)
            lags = [x for x in map(lag, group) if x is not None]
            print(f"    {svc:<10} {etype:<24} {len(group):>6} {min(times):>8.2f} {max(times):>8.2f} "
                  f"{len(group) / span if span > 0 else float('nan'):>7.0f}  {spread(lags)}")

    print("  stages (times from the start of the rush; lag p50/p95/max in ms):")
    table("written by", "relay lag (written→taken by the relay)", written,
          lambda r: (r[4] - r[3]).total_seconds() if r[4] is not None else None)
    table("handled by", "lag (taken by the relay→handled)", handled,
          lambda r: (r[3] - sent_at[r[1]]).total_seconds() if r[1] in sent_at else None)


async def busy_outboxes(stack: Stack) -> int:
    total = 0
    for name in ("units", "prospects", "buyers"):
        engine = create_async_engine(stack.database_urls[name])
        try:
            async with engine.connect() as conn:
                total += (await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
        finally:
            await engine.dispose()
    return total


# ---------------------------------------------------------------------------------------------
# the baseline: one database, one local transaction


@dataclass
class BaselineRun:
    rush: Rush
    rss: float | None
    problems: list[str]
    probe: list[float]


async def run_baseline(args: argparse.Namespace, run_no: int) -> BaselineRun:
    n_units, contenders = args.units, args.contenders
    url = await create_postgres_database("bench_baseline")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logfile = open(ARTIFACTS / f"baseline-{uuid.uuid4().hex[:8]}.log", "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/bench/baseline_app.py"), "--port", str(port)],
        cwd=ROOT, env={**os.environ, "BASELINE_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
        stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log(f"baseline run {run_no}: one database, one transaction per booking (pid {proc.pid}, :{port})")
    try:
        async with rush_client(args.connections) as client:
            for _ in range(150):
                if proc.poll() is not None:
                    raise RuntimeError(f"baseline app exited with {proc.returncode}; see {logfile.name}")
                try:
                    if (await client.get(f"{base}/healthz", timeout=1)).status_code == 200:
                        break
                except HTTP_ERRORS:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError("baseline app not ready after 30 s")

            async def unit(i: int) -> str:
                resp = await client.post(f"{base}/units", json={"name": f"A-{i + 1:04d}"})
                resp.raise_for_status()
                return resp.json()["id"]

            unit_ids = await bounded(args.setup_concurrency, [(lambda i=i: unit(i)) for i in range(n_units + args.probes)])
            prospects_by_unit = [[str(uuid.uuid4()) for _ in range(contenders)] for _ in range(n_units)]
            plan = plan_for(prospects_by_unit, unit_ids[:n_units], seed=args.seed + run_no)

            def post(p: str, u: str) -> Awaitable[Reply]:
                return client.post(f"{base}/bookings", json={"prospect_id": p, "unit_id": u})

            pid = service_pid(proc, "baseline_app.py")
            meter = CpuMeter({"baseline": pid})
            meter.start()
            rush = await fire(plan, post, None, "baseline", args.deadline, args.rate)
            rush.cpu = meter.stop()
            rss = rss_mb(pid)
            print_rush(rush)
            print(f"  resident memory at the end of the rush: baseline {rss:.0f} MB" if rss else "  resident memory: ?")

            probe = []
            for u in unit_ids[n_units:]:
                t0 = time.perf_counter()
                (await post(str(uuid.uuid4()), u)).raise_for_status()
                probe.append(time.perf_counter() - t0)
            if probe:
                print(f"  unloaded latency ({len(probe)} bookings one at a time after the rush): "
                      f"median {statistics.median(probe) * 1000:.1f} ms, max {max(probe) * 1000:.1f} ms")

        # the baseline's own invariant: one confirmed booking per booked unit, none for a free one
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                bad = (await conn.execute(text(
                    "SELECT count(*) FROM units u WHERE (SELECT count(*) FROM bookings b WHERE b.unit_id = u.id AND b.status = 'confirmed') "
                    "<> CASE WHEN u.status = 'booked' THEN 1 ELSE 0 END"
                ))).scalar_one()
        finally:
            await engine.dispose()
        problems = check_outcomes(rush, n_units) + ([f"baseline: {bad} units whose confirmed bookings disagree with their status"] if bad else [])
        print(f"  baseline consistency: {bad} unit(s) with a wrong number of confirmed bookings")
        return BaselineRun(rush, rss, problems, probe)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        logfile.close()
        try:
            await drop_postgres_database(url)
        except Exception:  # noqa: BLE001 - a leftover benchmark database harms nothing
            pass


# ---------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


async def main_async(args: argparse.Namespace) -> int:
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    started = datetime.now(UTC).astimezone()
    print(f"command: {command}")
    print(f"started: {started.isoformat(timespec='seconds')}  (cwd {os.getcwd()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    print(f"scenario: {args.units} units × {args.contenders} contenders = {args.units * args.contenders} bookings {arrival(args)}, "
          f"{args.connections} client connections, {args.runs} run(s)")
    saga_runs: list[SagaRun] = []
    base_runs: list[BaselineRun] = []
    for run_no in range(1, args.runs + 1):
        if not args.no_baseline:
            base_runs.append(await run_baseline(args, run_no))
        if not args.no_saga:
            saga_runs.append(await run_saga(args, run_no))

    print()
    print(f"=== results ({args.runs} run(s){', medians' if args.runs > 1 else ''}; finished {datetime.now(UTC).astimezone().isoformat(timespec='seconds')}) ===")
    print(f"command: {command}")
    rows = [
        ("throughput (bookings/s)", lambda r: r.throughput, "{:.0f}"),
        ("latency p50 (ms)", lambda r: r.pct(50), "{:.0f}"),
        ("latency p95 (ms)", lambda r: r.pct(95), "{:.0f}"),
        ("latency p99 (ms)", lambda r: r.pct(99), "{:.0f}"),
        ("p50 from send (ms)", lambda r: r.pct(50, True), "{:.0f}"),
        ("p95 from send (ms)", lambda r: r.pct(95, True), "{:.0f}"),
        ("rush wall time (s)", lambda r: r.elapsed, "{:.2f}"),
    ]
    saga_med = {name: median([f(r.rush) for r in saga_runs]) for name, f, _ in rows}
    base_med = {name: median([f(r.rush) for r in base_runs]) for name, f, _ in rows}
    print(f"{'metric':<26}| {'saga':>10} | {'baseline':>10} | {'ratio (saga/baseline)':>22}")
    print("-" * 26 + "+" + "-" * 12 + "+" + "-" * 12 + "+" + "-" * 23)
    for name, _f, fmt in rows:
        s, b = saga_med[name], base_med[name]
        ratio = f"{s / b:.2f}x" if saga_runs and base_runs and b else "-"
        print(f"{name:<26}| {fmt.format(s) if saga_runs else '-':>10} | {fmt.format(b) if base_runs else '-':>10} | {ratio:>22}")
    if args.probes:
        sp = median([statistics.median(r.probe) * 1000 for r in saga_runs if r.probe])
        bp = median([statistics.median(r.probe) * 1000 for r in base_runs if r.probe])
        ratio = f"{sp / bp:.2f}x" if saga_runs and base_runs and bp else "-"
        sp_text = f"{sp:.1f}" if saga_runs else "-"
        bp_text = f"{bp:.1f}" if base_runs else "-"
        print(f"{'unloaded latency p50 (ms)':<26}| {sp_text:>10} | {bp_text:>10} | {ratio:>22}")
    if args.rate:
        print(f"(bookings arrive at {args.rate:g}/s, so throughput cannot exceed that; 'unloaded' is one booking at a time)")
    else:
        print(f"(all {args.units * args.contenders} bookings start at once, so latency includes queueing behind the others: p50 is at least "
              f"~{args.units * args.contenders // 2} ÷ throughput; 'from send' leaves out the wait for one of the client's "
              f"{args.connections} connections; 'unloaded' is one booking at a time)")
    if args.runs > 1:
        for label, runs in (("saga", saga_runs), ("baseline", base_runs)):
            if runs:
                print(f"{label} per run: " + "; ".join(
                    f"{r.rush.throughput:.0f}/s p50 {r.rush.pct(50):.0f} p95 {r.rush.pct(95):.0f} p99 {r.rush.pct(99):.0f} ms" for r in runs))

    failures: list[str] = []
    misses: list[str] = []
    if saga_runs:
        rss = {name: median([r.rss.get(name) for r in saga_runs]) for name in SERVICES}
        print("resident memory at the end of the rush (MB): " + ", ".join(f"{n} {v:.0f}" for n, v in rss.items())
              + (f"; baseline {median([r.rss for r in base_runs]):.0f}" if base_runs else ""))
        for r in saga_runs:
            failures += r.outcome_problems + [f"invariant: {v}" for v in r.violations]
        print("outcomes (saga): " + "; ".join(
            f"confirmed {r.rush.count('confirmed')}, rejected {r.rush.count('rejected')}, not final {r.rush.count('not final')}, errors {r.rush.count('error')}"
            for r in saga_runs))
        print(f"invariant checker: {sum(len(r.violations) for r in saga_runs)} violation(s) over {len(saga_runs)} run(s)")
        p50, thr = saga_med["latency p50 (ms)"], saga_med["throughput (bookings/s)"]
        targets = [
            (f"p50 below {TARGET_P50_MS:.0f} ms", p50 < TARGET_P50_MS, f"{p50:.0f} ms"),
            (f"at least {TARGET_THROUGHPUT:.0f} bookings/s", thr >= TARGET_THROUGHPUT, f"{thr:.0f}/s"),
        ] + [(f"{n} under {TARGET_RSS_MB:.0f} MB", v < TARGET_RSS_MB, f"{v:.0f} MB") for n, v in rss.items()]
        for label, ok, value in targets:
            print(f"target {label}: {'met' if ok else 'MISSED'} ({value})")
            if not ok:
                misses.append(label)
    for r in base_runs:
        failures += r.problems
    for f in failures[:30]:
        print(f"FAILED: {f}")
    if failures:
        return 1
    if misses and args.strict:
        return 2
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole rush on fresh stacks and print medians")
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--contenders", type=int, default=5, help="prospects booking each unit")
    parser.add_argument("--connections", type=int, default=100, help="the benchmark client's connection limit")
    parser.add_argument("--rate", type=float, help="bookings arriving per second (open loop) instead of all at once")
    parser.add_argument("--setup-concurrency", type=int, default=16)
    parser.add_argument("--probes", type=int, default=20, help="unloaded bookings one at a time after the rush (0: none)")
    parser.add_argument("--deadline", type=float, default=90, help="seconds a booking may take before it counts as pending")
    parser.add_argument("--quiet-timeout", type=float, default=30, help="seconds the invariants may take to settle")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-saga", action="store_true")
    parser.add_argument("--no-stages", dest="stages", action="store_false", help="skip the per-stage timing report")
    parser.add_argument("--py-spy", metavar="PATH", help="a py-spy binary: profile each service during the rush")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a performance target is missed")
    args = parser.parse_args()
    if args.runs < 1 or args.units < 1 or args.contenders < 1:
        parser.error("--runs, --units and --contenders must be at least 1")
    os.chdir(ROOT)
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
