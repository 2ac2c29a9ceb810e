"""A whole multi-worker deployment on this machine (issue 19, `make cluster`).

Started here, each in its own process group, all on 127.0.0.1 with free ports, in one
throw-away run folder: Redis (Debian's ``redis-server``, the Celery broker), a PostgreSQL 15
cluster (Airflow's metadata database and the warehouse, two databases), a local S3 server
(moto) with one bucket, and Airflow with the CeleryExecutor: API server, scheduler, DAG
processor, triggerer and two Celery workers. Every Airflow process has its own working folder
(``INCLUSION_DATA``, ``AIRFLOW_HOME``): they share nothing but the object store and PostgreSQL.
Task logs go to the bucket (remote logging), so the UI shows the logs of both workers.

``shared_folder=True`` is a fallback kept for the DAGs that still read the partner areas from
the local data folder: every process then uses one data folder, the object store holds only
the logs. ``python -m ops.cluster`` runs it in the foreground until Ctrl-C or SIGTERM; stopping
stops every child (whole process groups) and removes the run folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pipeline.storage import AREAS

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
WORKERS = ("travailleur-1", "travailleur-2")
BUCKET = "inclusion-numerique"
# Every storage area's setting -> its folder under the bucket, as pipeline.storage names the
# folders in a local data folder.
AREA_SETTINGS = {setting: folder for setting, folder in AREAS.values()}
STORAGE_CONN_ID = "inclusion_stockage"
CLUSTER_SETTINGS = frozenset({*AREA_SETTINGS, "INCLUSION_DATA", "INCLUSION_WAREHOUSE_URL",
                              "INCLUSION_STORAGE_CONN_ID", "INCLUSION_WORKER_NAME"})
AIRFLOW_DAGS = ("reception_fichiers", "publication_site", "relance_partenaires")
# Restarted when they exit on their own (Cluster.watch), as their service manager would.
RESTARTED = frozenset({"api-server", "scheduler", "dag-processor", "triggerer", *WORKERS})
# botocore's settings in the connection's extra (``config_kwargs``, read by the Amazon provider
# for s3fs and for the task logs). botocore's defaults (60 s to connect, 60 s per read, up to 5
# tries) times s3fs's own 5 tries would hold a task for about half an hour on a store that
# accepts connections but does not answer; here a request gives up after read_timeout x 5 tries
# (s3fs) and the task fails, to be retried.
STORE_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 10, "retries": {"total_max_attempts": 1}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, what: str, seconds: float = 120, every: float = 0.5) -> None:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"{what} : toujours pas prêt après {seconds:.0f} s")
        time.sleep(every)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: IO[bytes]
    log_path: Path
    command: list[str]
    env: dict[str, str]


@dataclass
class Processes:
    """Commands started each in its own session (process group), stopped as whole groups."""
    logs: Path
    children: list[Child] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Child:
        path = self.logs / f"{name}.log"
        log = open(path, "ab")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        child = Child(name, process, log, path, command, env)
        self.children.append(child)
        return child

    def restart_exited(self, names: frozenset[str]) -> list[str]:
        """Starts again those of ``names`` that exited on their own, as a service manager
        (systemd, Kubernetes) would: Airflow's scheduler, DAG processor and triggerer exit when
        the metadata database goes away for a moment."""
        restarted = []
        for child in [c for c in self.exited() if c.name in names]:
            child.log.close()
            self.children.remove(child)
            self.start(child.name, child.command, child.env)
            restarted.append(child.name)
        self.restarts += restarted
        return restarted

    def get(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def stop(self, name: str | None = None, sig: int = signal.SIGTERM,
             timeout: float = 30) -> None:
        """Stops one child (or all, the last started first) with everything in its session: a
        task process that Airflow put in a process group of its own is stopped too."""
        chosen = [c for c in reversed(self.children) if name is None or c.name == name]
        for child in chosen:
            _signal_session(child.process.pid, sig)
            if sig != signal.SIGKILL:  # a child stopped by a drill (SIGSTOP) takes it now
                _signal_session(child.process.pid, signal.SIGCONT)
        for child in chosen:
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            _signal_session(child.process.pid, signal.SIGKILL)  # what is left of it
            child.process.wait(timeout=30)
            child.log.close()
            self.children.remove(child)

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]


def _sessions() -> dict[int, list[tuple[int, int]]]:
    """Session id -> (pid, resident bytes) of each of its processes (Linux /proc)."""
    page = os.sysconf("SC_PAGE_SIZE")
    found: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss = int((entry / "statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        found.setdefault(int(fields[3]), []).append((int(entry.name), rss))
    return found


def _signal_session(sid: int, sig: int) -> None:
    for pid, _rss in _sessions().get(sid, []):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


# --- PostgreSQL 15 (Debian's server binaries, run as the `postgres` user when root) ---------

def postgres_available() -> bool:
    return (POSTGRES_BIN / "initdb").exists() and shutil.which("runuser") is not None


def as_postgres(*command: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}"

    def pg_ctl(self, *arguments: str) -> None:
        as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-w",
                    *arguments)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.folder / "server.log"), "-o",
                    f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


@contextmanager
def postgres_server(*databases: str) -> Iterator[Postgres]:
    """A throw-away PostgreSQL 15 cluster on a free port with ``databases`` created, stopped
    and removed on exit. Not under pytest's tmp_path: its parents are private to root, and the
    server runs as the `postgres` user."""
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(folder, free_port())
    try:
        as_postgres(str(POSTGRES_BIN / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C")
        server.start()
        try:
            for database in databases:
                as_postgres(str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p",
                            str(server.port), database)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- The cluster ---------------------------------------------------------------------------

@dataclass
class Cluster:
    root: Path
    postgres: Postgres
    processes: Processes
    redis_port: int
    s3_port: int
    api_port: int
    shared_folder: bool
    secrets: dict[str, str]
    # Added to every process's environment, and to one process's (by name).
    extra_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # Seconds a request to the store may wait for an answer (STORE_TIMEOUTS).
    store_read_timeout: float = 10

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def warehouse_url(self) -> str:
        return f"{self.postgres.url}/entrepot"

    @property
    def metadata_url(self) -> str:
        return f"{self.postgres.url}/airflow"

    def connection(self) -> str:
        """The Airflow connection to the object store (moto's dummy credentials), with short
        timeouts (STORE_TIMEOUTS) so that a store that stops answering fails a task within a
        minute or so instead of holding it."""
        return json.dumps({"conn_type": "aws", "login": "test", "password": "test",
                           "extra": {"endpoint_url": self.s3_endpoint,
                                     "region_name": "us-east-1",
                                     "config_kwargs": {**STORE_TIMEOUTS,
                                                       "read_timeout": self.store_read_timeout}}})

    def s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def data(self, name: str) -> Path:
        """The working (data) folder of one process: its own, or the shared one."""
        return self.root / ("partage" if self.shared_folder else name) / "data"

    def env(self, name: str = "client") -> dict[str, str]:
        """The environment of one Airflow process (or of a client command: ``airflow dags
        trigger``, ``pipeline.cli``) of this cluster."""
        home = self.root / name / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        self.data(name).mkdir(parents=True, exist_ok=True)
        # Airflow's settings and the storage, warehouse and folder settings are the cluster's;
        # the others (territory, settle time, batch sizes…) are passed on.
        base = {key: value for key, value in os.environ.items()
                if not key.startswith("AIRFLOW") and key not in CLUSTER_SETTINGS}
        env = {**base,
               "PATH": f"{BIN}:{os.environ['PATH']}",
               "PYTHONPATH": str(REPO),
               "NO_PROXY": "*", "no_proxy": "*",
               "GX_ANALYTICS_ENABLED": "False",
               "AIRFLOW_HOME": str(home),
               "INCLUSION_DATA": str(self.data(name)),
               "INCLUSION_WORKER_NAME": name,
               "INCLUSION_WAREHOUSE_URL": self.warehouse_url,
               "AIRFLOW__CORE__HOSTNAME_CALLABLE": "pipeline.settings.hostname",
               "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
               "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
               "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
               "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__CORE__PARALLELISM": "8",
               "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/Paris",
               "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
               "AIRFLOW__CORE__FERNET_KEY": self.secrets["fernet"],
               "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.ui_url}/execution/",
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE":
                   str(self.root / "mots_de_passe.json"),
               "AIRFLOW__API__HOST": "127.0.0.1",
               "AIRFLOW__API__PORT": str(self.api_port),
               "AIRFLOW__API__SECRET_KEY": self.secrets["api"],
               "AIRFLOW__API_AUTH__JWT_SECRET": self.secrets["jwt"],
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
               "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
               "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:"
                                                  f"{self.postgres.port}/airflow",
               "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
               "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
               "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
               # Task logs in the bucket: the UI reads them there, whichever worker ran the task.
               "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
               "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{BUCKET}/journaux",
               "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": STORAGE_CONN_ID,
               "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
               "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
               f"AIRFLOW_CONN_{STORAGE_CONN_ID.upper()}": self.connection(),
               "INCLUSION_STORAGE_CONN_ID": STORAGE_CONN_ID}
        if not self.shared_folder:
            env |= {setting: f"s3://{BUCKET}/{folder}"
                    for setting, folder in AREA_SETTINGS.items()}
        return {**env, **self.extra_env, **self.worker_env.get(name, {})}

    def airflow(self, *arguments: str, timeout: float = 300) -> str:
        done = subprocess.run([AIRFLOW, *arguments], env=self.env(), cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(arguments)} :\n{done.stdout[-2000:]}"
                               f"{done.stderr[-3000:]}")
        return done.stdout

    def start_worker(self, name: str, concurrency: int) -> Child:
        return self.processes.start(
            name, [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h",
                   "--concurrency", str(concurrency), "--without-mingle", "--without-gossip"],
            self.env(name))

    # --- Failure drills (issue 19, item 4) ---

    def kill_worker(self, name: str) -> None:
        """SIGKILL to the worker's whole process group: the worker and its running tasks."""
        self.processes.stop(name, signal.SIGKILL, timeout=10)

    def restart_redis(self) -> None:
        """Redis stopped and started again on the same port (its queue is not persisted)."""
        self.processes.stop("redis")
        _start_redis(self.processes, self.root, self.redis_port)

    def restart_postgres(self) -> None:
        """PostgreSQL stopped (fast: open connections cut) and started again."""
        self.postgres.stop()
        self.postgres.start()

    def freeze_store(self) -> None:
        """The S3 server stopped (SIGSTOP): connections are still accepted by the system, but
        nothing answers, as with a store gone away behind a load balancer."""
        _signal_session(self.processes.get("s3").process.pid, signal.SIGSTOP)

    def thaw_store(self) -> None:
        """The S3 server goes on (SIGCONT) and answers what waited meanwhile."""
        _signal_session(self.processes.get("s3").process.pid, signal.SIGCONT)

    def watch(self) -> list[str]:
        """Restarts the Airflow processes that exited (RESTARTED); returns their names."""
        return self.processes.restart_exited(RESTARTED)

    def worker_ready(self, name: str) -> bool:
        child = self.processes.get(name)
        return b" ready." in child.log_path.read_bytes()


def _start_redis(processes: Processes, root: Path, port: int) -> None:
    (root / "redis").mkdir(exist_ok=True)
    processes.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--dir", str(root / "redis"), "--save", "", "--appendonly", "no",
                              "--protected-mode", "yes"], dict(os.environ))
    wait_until(lambda: port_open(port), "Redis", 30)


def _start_s3(processes: Processes, port: int) -> None:
    processes.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                    {**os.environ, "NO_PROXY": "*"})
    wait_until(lambda: port_open(port), "le serveur S3 local", 60)


def _api_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def cluster(root: Path | None = None, *, shared_folder: bool = False, concurrency: int = 2,
            settle_seconds: float | None = None, extra_env: dict[str, str] | None = None,
            worker_env: dict[str, dict[str, str]] | None = None,
            store_read_timeout: float = 10) -> Iterator[Cluster]:
    """Starts everything, waits until the DAGs are parsed and both workers are ready, yields
    the cluster, and stops every child on exit. ``root`` (created if needed; a temporary folder
    by default) is removed afterwards. ``extra_env`` goes to every process, ``worker_env`` to
    one worker (by name) only; ``store_read_timeout``: seconds a store request may wait for
    an answer (STORE_TIMEOUTS)."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server est introuvable : apt-get install redis-server")
    if not postgres_available():
        raise RuntimeError("PostgreSQL 15 est introuvable : apt-get install postgresql-15")
    made = root is None
    root = Path(tempfile.mkdtemp(prefix="inclusion-cluster-")) if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    (root / "journaux").mkdir(exist_ok=True)
    processes = Processes(root / "journaux")
    try:
        with postgres_server("airflow", "entrepot") as postgres:
            the = Cluster(root=root, postgres=postgres, processes=processes,
                          redis_port=free_port(), s3_port=free_port(), api_port=free_port(),
                          shared_folder=shared_folder,
                          secrets={"fernet": _fernet_key(), "api": secrets.token_urlsafe(24),
                                   "jwt": secrets.token_urlsafe(32)},
                          extra_env={**(extra_env or {}), **(
                              {} if settle_seconds is None
                              else {"INCLUSION_SETTLE_SECONDS": str(settle_seconds)})},
                          worker_env=worker_env or {}, store_read_timeout=store_read_timeout)
            try:
                _start_redis(processes, root, the.redis_port)
                _start_s3(processes, the.s3_port)
                the.s3().create_bucket(Bucket=BUCKET)
                the.airflow("db", "migrate")
                subprocess.run([sys.executable, "-m", "pipeline.load.migrate"], env=the.env(),
                               cwd=REPO, check=True, capture_output=True, timeout=300)
                for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
                    processes.start(name, [AIRFLOW, name], the.env(name))
                for name in WORKERS:
                    the.start_worker(name, concurrency)
                wait_until(lambda: _api_healthy(the.ui_url), "le serveur d'API Airflow", 180, 2)
                wait_until(lambda: all(the.worker_ready(n) for n in WORKERS),
                           "les deux travailleurs Celery", 180, 1)
                wait_until(lambda: _dags_parsed(the), "l'analyse des DAG", 300, 3)
                yield the
            finally:
                processes.stop()
    finally:
        processes.stop()
        if made:
            shutil.rmtree(root, ignore_errors=True)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _dags_parsed(the: Cluster) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(the.metadata_url)
    try:
        with engine.connect() as connection:
            found = {row[0] for row in connection.execute(text("SELECT dag_id FROM dag"))}
    except Exception:  # noqa: BLE001 - not migrated or not reachable yet
        return False
    finally:
        engine.dispose()
    return set(AIRFLOW_DAGS) <= found


# Columns that say when or where a run stored something, not what it stored.
VOLATILE_COLUMNS = frozenset({"received_at", "source_received_at", "stored_path", "report"})


def warehouse_content(url: str) -> dict[str, list[tuple]]:
    """Every warehouse table's rows, sorted, without the columns of VOLATILE_COLUMNS: what two
    runs on the same files must agree on, whatever the database or the number of workers."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        content = {}
        with engine.connect() as connection:
            for name, table in sorted(tables.tables.items()):
                if name.startswith("alembic"):
                    continue
                columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
                rows = connection.execute(select(*columns)).all()
                content[name] = sorted((tuple(_comparable(v) for v in row) for row in rows),
                                       key=repr)
        return content
    finally:
        engine.dispose()


def _comparable(value):
    """SQLite and PostgreSQL give back the same stored value as int, float or Decimal."""
    from decimal import Decimal

    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def memory(the: Cluster) -> dict[str, tuple[int, int]]:
    """For each child: the resident memory of all its processes (its session, task processes
    included) and of its largest process, in bytes."""
    sessions = _sessions()
    found = {}
    for child in the.processes.children:
        sizes = [rss for _pid, rss in sessions.get(child.process.pid, [])]
        found[child.name] = (sum(sizes), max(sizes, default=0))
    return found


def _banner(the: Cluster) -> str:
    lines = [
        "==> Grappe Airflow prête (CeleryExecutor, deux travailleurs : " + ", ".join(WORKERS) + ")",
        f"    Interface Airflow : {the.ui_url} — utilisateur « admin », mot de passe dans "
        f"{the.root / 'mots_de_passe.json'}",
        f"    Stockage objet (S3 local) : {the.s3_endpoint}, compartiment « {BUCKET} », "
        "identifiants test / test ; journaux des tâches sous journaux/"]
    if the.shared_folder:
        lines.append("    Mode de repli : un seul dossier de données pour tous, "
                     f"{the.data('partage')} ; déposer un fichier dans "
                     f"{the.data('partage') / 'inbox'}/<partenaire>/")
    else:
        lines += [f"    Déposer un fichier : s3://{BUCKET}/inbox/<partenaire>/<fichier>, par exemple",
                  f"      {BIN / 'python'} -m ops.cluster deposer --endpoint {the.s3_endpoint} "
                  "ville-palaiseau ateliers.csv",
                  f"    Site publié : s3://{BUCKET}/site/current.json (la version en ligne) et "
                  "site/builds/<version>/"]
    return "\n".join([
        *lines,
        f"    Entrepôt : {the.warehouse_url} ; métadonnées : {the.metadata_url}",
        f"    Journaux des processus : {the.processes.logs}",
        "    Ctrl-C pour tout arrêter (rien ne reste en marche, le dossier est supprimé)."])


def drop(endpoint: str, partner: str, path: Path, bucket: str = BUCKET) -> str:
    """Puts a partner's file in the S3 inbox, as a partner's upload would."""
    import boto3

    key = f"inbox/{partner}/{path.name}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").upload_file(
        str(path), bucket, key)
    return f"s3://{bucket}/{key}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Grappe Airflow locale (make cluster).")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("lancer", help="démarre tout au premier plan (par défaut)")
    run.add_argument("--dossier-partage", action="store_true",
                     help="un seul dossier de données pour tous (mode de repli)")
    put = sub.add_parser("deposer", help="dépose un fichier dans la boîte S3 d'un partenaire")
    put.add_argument("--endpoint", required=True)
    put.add_argument("partenaire")
    put.add_argument("fichier", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "deposer":
        print(drop(arguments.endpoint, arguments.partenaire, arguments.fichier))
        return

    def stop(signum, frame):  # SIGTERM stops like Ctrl-C
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    print("==> Démarrage de la grappe (Redis, PostgreSQL, S3 local, Airflow, deux travailleurs)",
          flush=True)
    started = time.monotonic()
    try:
        with cluster(shared_folder=getattr(arguments, "dossier_partage", False)) as the:
            print(_banner(the), flush=True)
            print(f"    (démarrée en {time.monotonic() - started:.0f} s)", flush=True)
            restarted: list[str] = []
            while not (gone := the.processes.exited()) or the.watch():
                for name in the.processes.restarts[len(restarted):]:
                    print(f"==> {name} s'est arrêté, relancé ; voir {the.processes.logs}",
                          flush=True)
                restarted = list(the.processes.restarts)
                time.sleep(2)
            print(f"==> Arrêt : {', '.join(c.name for c in gone)} s'est arrêté ; voir "
                  f"{gone[0].log_path}", flush=True)
    except KeyboardInterrupt:
        print("\n==> Arrêt de la grappe…", flush=True)
    print("==> Tout est arrêté.", flush=True)


if __name__ == "__main__":
    main()
