"""Starts the whole Nyprod stack on this machine: Kafka (and PostgreSQL when asked), the three
services and the gateway, each as a local process.

    python deploy/local/stack.py run  [--db sqlite|postgres]   # foreground, logs, Ctrl-C stops
    python deploy/local/stack.py up   [--db sqlite|postgres]   # detached
    python deploy/local/stack.py down
    python deploy/local/stack.py status

Environment variables win over the defaults (KAFKA_BOOTSTRAP_SERVERS, <SERVICE>_DATABASE_URL …).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("NYPROD_RUN_DIR", ROOT / ".run"))
PY = sys.executable


@dataclass
class Service:
    name: str
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def services(db: str, *, pg_url: str, ports: dict[str, int] | None = None, extra_env: dict[str, str] | None = None) -> list[Service]:
    ports = ports or {"prospects": 8001, "units": 8002, "buyers": 8003, "gateway": 8000}
    out = []
    for name in ("units", "prospects", "buyers"):
        var = f"{name.upper()}_DATABASE_URL"
        if var in os.environ:
            url = os.environ[var]
        elif db == "postgres":
            url = f"{pg_url}/{name}"
        else:
            url = f"sqlite+aiosqlite:///{RUN}/{name}.db"
        out.append(Service(name, ports[name], {var: url, f"{name.upper()}_PORT": str(ports[name])}))
    gw = {
        "GATEWAY_PORT": str(ports["gateway"]),
        "GATEWAY_UNITS_URL": f"http://127.0.0.1:{ports['units']}",
        "GATEWAY_PROSPECTS_URL": f"http://127.0.0.1:{ports['prospects']}",
        "GATEWAY_BUYERS_URL": f"http://127.0.0.1:{ports['buyers']}",
        "GATEWAY_DATABASE_URL": os.environ.get("GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{RUN}/gateway.db"),
    }
    out.append(Service("gateway", ports["gateway"], gw))
    for s in out:
        s.env.update(extra_env or {})
    return out


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_infra(db: str) -> str:
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        subprocess.run([ROOT / "deploy/local/kafka.sh", "start"], check=True)
    pg_url = os.environ.get("NYPROD_POSTGRES_URL", "")
    if db == "postgres" and not pg_url:
        subprocess.run([ROOT / "deploy/local/postgres.sh", "start"], check=True)
        pg_url = subprocess.run([ROOT / "deploy/local/postgres.sh", "url"], check=True, capture_output=True, text=True).stdout.strip()
    return pg_url


def spawn(svc: Service, log_path: Path | None, base_env: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, **base_env, **svc.env}
    out = open(log_path, "ab") if log_path else None  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [PY, "-m", svc.name],
        cwd=ROOT,
        env=env,
        stdout=out or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(procs: dict[str, subprocess.Popen], svcs: list[Service], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = {s.name: s for s in svcs}
    while pending:
        for name, svc in list(pending.items()):
            if procs[name].poll() is not None:
                raise SystemExit(f"{name} exited with code {procs[name].returncode}; see {RUN / 'logs' / (name + '.log')}")
            if ready(svc.url):
                del pending[name]
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
        time.sleep(0.3)


def stop_pids() -> None:
    for pidfile in (RUN / "pids").glob("*.pid") if (RUN / "pids").exists() else []:
        try:
            pid = int(pidfile.read_text())
            os.killpg(pid, signal.SIGTERM)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
        pidfile.unlink(missing_ok=True)


def load_demo(gateway_url: str) -> None:
    subprocess.run([PY, ROOT / "deploy/local/demo_data.py", gateway_url], check=True)


def _stop_on(signum, _frame) -> None:  # noqa: ANN001
    raise KeyboardInterrupt


def main() -> None:
    # Ctrl-C and a plain `kill` both stop everything cleanly, even where SIGINT was inherited
    # as ignored (a background job of a non-interactive shell)
    signal.signal(signal.SIGINT, _stop_on)
    signal.signal(signal.SIGTERM, _stop_on)
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "up", "down", "status"])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=os.environ.get("DB") or "sqlite")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()

    if args.command == "down":
        stop_pids()
        print("stack: services stopped (Kafka and PostgreSQL keep running: deploy/local/kafka.sh stop)")
        return
    if args.command == "status":
        for s in services("sqlite", pg_url=""):
            print(f"{s.name:10s} {s.url:24s} {'ready' if ready(s.url) else 'down'}")
        return

    stop_pids()
    RUN.mkdir(parents=True, exist_ok=True)
    (RUN / "logs").mkdir(exist_ok=True)
    (RUN / "pids").mkdir(exist_ok=True)
    pg_url = start_infra(args.db)
    svcs = services(args.db, pg_url=pg_url)
    base_env = {"GATEWAY_LOCAL_MODE": "true", "PYTHONUNBUFFERED": "1"}
    procs: dict[str, subprocess.Popen] = {}
    tail: subprocess.Popen | None = None
    detached = args.command == "up"
    for svc in svcs:
        procs[svc.name] = spawn(svc, RUN / "logs" / f"{svc.name}.log", base_env)
        (RUN / "pids" / f"{svc.name}.pid").write_text(str(procs[svc.name].pid))
    try:
        wait_ready(procs, svcs)
        gateway = svcs[-1].url
        if not args.no_demo:
            load_demo(gateway)
        print(f"\nNyprod is running: {gateway}  (API docs: {gateway}/docs, log in as admin/admin)\n", flush=True)
        if detached:
            print(f"logs: {RUN / 'logs'}; stop with: make down")
            return
        tail = subprocess.Popen(["tail", "-n", "0", "-F", *[str(RUN / "logs" / f"{s.name}.log") for s in svcs]])
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        raise SystemExit(f"stack: {', '.join(dead)} stopped; see {RUN / 'logs'}")
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if tail is not None:
            tail.terminate()
        if not detached or sys.exc_info()[0] is not None:
            stop_pids()
            for p in procs.values():
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
