"""Publishing the site to a bucket (issue 19, item 2): each build under its own prefix, checked
there, then one write of the pointer ``current.json``; rollback, idempotent re-runs, refused
overwrites, pruning, and the object store going away mid-upload (item 4's drill). Against the
local S3 server (tests/s3server.py); the build itself is made in the test's data folder."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REFERENCE_RUN
from test_publish import _drop_one_venue

from pages.page_plan import files_under
from pipeline.alerts import task_failure_alert
from pipeline.cli import main as cli
from pipeline.storage import AREAS
from publish import bucket
from publish import site as publishing


@pytest.fixture
def store(loaded_samples: Path, object_store, monkeypatch: pytest.MonkeyPatch):
    """The sample drops ingested locally, and only the site area in a fresh bucket."""
    for area, (setting, _folder) in AREAS.items():
        if area != "site":
            monkeypatch.delenv(setting)
    return object_store


def pointer(store) -> dict:
    return json.loads(store.get("site/current.json"))


def remote_files(store, build_id: str) -> dict[str, bytes]:
    client, prefix = store.server.client(), f"site/builds/{build_id}/"
    return {key[len(prefix):]: client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
            for key in store.keys(prefix)}


def local_files(build: Path) -> dict[str, bytes]:
    return {name: (build / name).read_bytes() for name in files_under(build)}


def local_live(data: Path) -> str:
    return (data / "site" / "current").resolve().name


def test_a_build_goes_online_under_its_own_prefix_with_its_content_types(store, data_dir):
    first = publishing.publish(REFERENCE_RUN)
    assert first.path == f"{store.url('site')}/builds/{first.build_id}/"
    build = data_dir / "site" / "builds" / first.build_id
    assert remote_files(store, first.build_id) == local_files(build)
    assert first.pages == sum(name.endswith(".html") for name in files_under(build))
    live = pointer(store)
    assert live["build_id"] == first.build_id and live["prefix"] == f"builds/{first.build_id}/"
    assert live["previous"] == [] and live["pages"] == first.pages
    client = store.server.client()

    def content_type(key: str) -> str:
        return client.head_object(Bucket=store.bucket, Key=key)["ContentType"]

    assert content_type(f"site/builds/{first.build_id}/index.html") == "text/html; charset=utf-8"
    css = next(n for n in files_under(build) if n.endswith(".css"))
    assert content_type(f"site/builds/{first.build_id}/{css}") == "text/css; charset=utf-8"
    assert content_type("site/current.json") == "application/json"
    # The sealed inventory: every file with its size and SHA-256.
    inventory = json.loads(store.get(f"site/inventaires/{first.build_id}.json"))
    assert sorted(inventory["files"]) == sorted(files_under(build))
    assert local_live(data_dir) == first.build_id  # the worker's own mirror follows


@pytest.mark.heavy  # two builds, a reader thread
def test_readers_always_see_a_complete_build_across_the_switch_and_the_rollback(store, data_dir):
    first = publishing.publish(REFERENCE_RUN)
    second = publishing.prepare(REFERENCE_RUN + timedelta(days=1))
    expected = {first.build_id: local_files(data_dir / "site" / "builds" / first.build_id),
                second.build_id: local_files(Path(second.path))}
    assert expected[first.build_id] != expected[second.build_id]
    # Prepared: sent under its own prefix and sealed, but readers still get the first.
    assert complete(store, second.build_id)
    assert pointer(store)["build_id"] == first.build_id

    seen: list[tuple[str, bool]] = []
    stop = threading.Event()
    client = store.server.client()

    def read_as_a_web_server_does() -> None:
        """The pointer, then the files of the build it names."""
        while not stop.is_set():
            build_id = pointer(store)["build_id"]
            prefix = f"site/builds/{build_id}/"
            names = {key[len(prefix):] for key in store.keys(prefix)}
            home = client.get_object(Bucket=store.bucket, Key=prefix + "index.html")
            seen.append((build_id, names == set(expected[build_id])
                         and home["Body"].read() == expected[build_id]["index.html"]))

    reader = threading.Thread(target=read_as_a_web_server_does)
    reader.start()
    try:
        published = publishing.go_live(second.build_id)
        assert pointer(store)["build_id"] == second.build_id
        stop.wait(0.5)
    finally:
        stop.set()
        reader.join()
    assert published.build_id == second.build_id
    assert seen and all(complete for _build, complete in seen), seen
    assert seen[-1][0] == second.build_id
    assert pointer(store)["previous"] == [first.build_id]
    assert remote_files(store, second.build_id) == expected[second.build_id]
    assert local_live(data_dir) == second.build_id

    assert cli(["rollback"]) == 0  # make rollback
    live = pointer(store)
    assert live["build_id"] == first.build_id and live["rolled_back_from"] == second.build_id
    assert remote_files(store, first.build_id) == expected[first.build_id]
    assert local_live(data_dir) == first.build_id
    assert cli(["rollback"]) == 1  # nothing older
    assert pointer(store)["build_id"] == first.build_id


@pytest.mark.heavy  # the same build twice
def test_a_rerun_of_the_same_build_changes_nothing_on_the_store(store, data_dir):
    first = publishing.publish(REFERENCE_RUN)
    client = store.server.client()

    def stamps() -> dict[str, object]:
        prefix = f"site/builds/{first.build_id}/"
        return {key: client.head_object(Bucket=store.bucket, Key=key)["LastModified"]
                for key in store.keys(prefix)}

    before = stamps()
    again = publishing.go_live(first.build_id)  # a retry of the task after it went online
    assert again.build_id == first.build_id and again.pages == first.pages
    assert stamps() == before  # nothing sent again
    assert pointer(store)["build_id"] == first.build_id and pointer(store)["previous"] == []
    # The same run rendered again (a cleared task): identical files, same prefix, accepted.
    rebuilt = publishing.publish(REFERENCE_RUN)
    assert rebuilt.build_id == first.build_id and stamps() == before


def test_a_prefix_holding_other_content_is_never_overwritten(store, data_dir):
    first = publishing.publish(REFERENCE_RUN)
    published = remote_files(store, first.build_id)
    # The same build id prepared again with other bytes (a copy: never write through the
    # hard links the live build shares).
    pending = data_dir / "site" / "attente" / first.build_id
    shutil.copytree(data_dir / "site" / "builds" / first.build_id, pending)
    (pending / "index.html").unlink()
    (pending / "index.html").write_text("<html>autre contenu</html>", encoding="utf-8")
    with pytest.raises(publishing.SiteCheckFailed, match="autre contenu"):
        publishing.go_live(first.build_id)
    assert remote_files(store, first.build_id) == published
    assert pointer(store)["build_id"] == first.build_id


@pytest.mark.heavy  # three builds of the site
def test_a_build_waiting_for_a_steward_is_never_online_and_one_set_aside_leaves(store, data_dir):
    first = publishing.publish(REFERENCE_RUN)
    _drop_one_venue(data_dir)
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert candidate.needs_approval
    assert complete(store, candidate.build_id)  # sent, for whichever worker publishes it
    assert pointer(store)["build_id"] == first.build_id  # ... but not online
    publishing.set_aside(candidate.build_id, decision="« Écarter » par admin")
    assert store.keys(f"site/builds/{candidate.build_id}/") == []
    assert store.keys(f"site/inventaires/{candidate.build_id}") == []
    assert pointer(store)["build_id"] == first.build_id
    assert (data_dir / "site" / "ecartees" / candidate.build_id / "index.html").is_file()

    approved = publishing.prepare(REFERENCE_RUN + timedelta(hours=2))
    assert approved.needs_approval and pointer(store)["build_id"] == first.build_id
    publishing.go_live(approved.build_id, decision="« Publier » par admin")
    assert pointer(store)["build_id"] == approved.build_id
    assert pointer(store)["previous"] == [first.build_id]
    with pytest.raises(bucket.BucketError, match="en ligne"):
        bucket.discard(first.build_id)  # kept for rollback: never removed


def test_the_worker_putting_it_online_needs_only_the_store(store, data_dir):
    """Celery workers share no disk: the build made on one is put online from another."""
    first = publishing.publish(REFERENCE_RUN)
    second = publishing.prepare(REFERENCE_RUN + timedelta(days=1))
    shutil.rmtree(second.path)  # this worker never had it
    published = publishing.go_live(second.build_id)
    assert published.build_id == pointer(store)["build_id"] == second.build_id
    assert pointer(store)["previous"] == [first.build_id] and complete(store, second.build_id)
    assert local_live(data_dir) == first.build_id  # its own mirror keeps what it had
    with pytest.raises(publishing.SiteCheckFailed, match="ni en attente"):
        publishing.go_live("20990101T000000")


def test_an_older_build_never_replaces_the_live_pointer(store, data_dir):
    """Another worker's old run, cleared again once the store came back, finds a newer build
    online: the pointer does not move back."""
    older = publishing.prepare(REFERENCE_RUN)
    newer = publishing.publish(REFERENCE_RUN + timedelta(days=1))
    with pytest.raises(publishing.StaleBuild, match=newer.build_id):
        publishing.go_live(older.build_id)
    assert pointer(store)["build_id"] == newer.build_id
    assert complete(store, newer.build_id)


@pytest.mark.heavy  # four builds of the site
def test_pruning_keeps_the_live_build_and_the_one_before(store, data_dir, monkeypatch):
    monkeypatch.setattr(publishing, "KEEP_BUILDS", 2)
    ids = [publishing.publish(REFERENCE_RUN + timedelta(hours=h)).build_id for h in range(3)]

    def builds() -> set[str]:
        return {key.split("/")[2] for key in store.keys("site/builds/")}

    assert builds() == set(ids[1:])
    assert store.keys("site/inventaires/") == [f"site/inventaires/{b}.json" for b in ids[1:]]
    assert cli(["rollback"]) == 0
    assert pointer(store)["build_id"] == ids[1]
    assert bucket.prune(1) == [] and builds() == set(ids[1:])  # the live one, although older

    newest = publishing.publish(REFERENCE_RUN + timedelta(hours=3)).build_id
    # The previous build (the one rolled back to) stays although beyond the count.
    assert pointer(store)["previous"] == [ids[1]]
    assert builds() == {ids[1], ids[2], newest}
    for build_id in (ids[1], newest):
        assert complete(store, build_id)


def complete(store, build_id: str) -> bool:
    """Every file of the build's sealed inventory is on the store with its SHA-256."""
    files = json.loads(store.get(f"site/inventaires/{build_id}.json"))["files"]
    found = remote_files(store, build_id)
    return found.keys() == files.keys() and all(
        hashlib.sha256(found[name]).hexdigest() == sha for name, (_size, sha, _md5)
        in files.items())


class Relay:
    """A TCP relay on 127.0.0.1 in front of the S3 server that can go away: after ``puts``
    more PUT requests it drops every connection and refuses new ones, until ``restore``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = int(upstream.rsplit(":", 1)[1])
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.puts: int | None = None
        self.down = threading.Event()
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, requests: bool) -> None:
        try:
            while chunk := source.recv(1 << 16):
                if requests and chunk.startswith(b"PUT "):
                    with self.lock:
                        if self.puts == 0:
                            self.cut()
                        elif self.puts is not None:
                            self.puts -= 1
                if self.down.is_set():
                    return
                target.sendall(chunk)
        except OSError:
            pass
        finally:  # either side done: the pair is (the other pump's recv returns at once)
            with self.lock:
                for end in (source, target):
                    _hang_up(end)
                    if end in self.open:
                        self.open.remove(end)

    def cut(self) -> None:
        self.down.set()
        for end in list(self.open):
            _hang_up(end)

    def restore(self) -> None:
        self.puts = None
        self.down.clear()

    def close(self) -> None:
        self.cut()
        _hang_up(self.listener)  # also wakes the thread waiting in accept()


def _hang_up(end: socket.socket) -> None:
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()


@pytest.fixture
def relay(store, monkeypatch):
    """The site store reached through ``Relay``: a connection of its own (Airflow keeps one
    file system per connection id in a process), with few botocore retries to keep it short."""
    through = Relay(store.server.endpoint)
    connection = json.loads(store.server.connection())
    connection["extra"].update(endpoint_url=through.endpoint,
                               config_kwargs={"retries": {"max_attempts": 2}})
    monkeypatch.setenv("INCLUSION_STORAGE_CONN_ID", f"stockage_relais_{through.port}")
    monkeypatch.setenv(f"AIRFLOW_CONN_STOCKAGE_RELAIS_{through.port}", json.dumps(connection))
    yield through
    through.close()


@pytest.mark.heavy  # three builds, retries while the store is away
def test_a_store_going_away_mid_upload_never_leaves_a_half_published_site(store, relay,
                                                                          data_dir):
    first = publishing.publish(REFERENCE_RUN)
    later = REFERENCE_RUN + timedelta(days=1)
    build_id = publishing.build_id_for(later)
    relay.puts = 40  # the store goes away after 40 files of the second build
    with pytest.raises(bucket.SiteStoreUnreachable, match="le site en ligne n'a pas changé") \
            as failure:
        publishing.prepare(later)
    sent = store.keys(f"site/builds/{build_id}/")
    built = data_dir / "site" / "attente" / build_id
    assert 0 < len(sent) < len(list(files_under(built)))  # half sent...
    assert pointer(store)["build_id"] == first.build_id  # ... never online, never sealed
    assert store.keys(f"site/inventaires/{build_id}") == []
    assert local_live(data_dir) == first.build_id

    # The task's last retry failed: the stewards' alert (the DAG's failure callback).
    class LastTry:
        dag_id, task_id, map_index, run_id = "publication_site", "construire", -1, "r1"

    task_failure_alert({"task_instance": LastTry(), "exception": failure.value})
    (alert,) = (data_dir / "alertes").glob("*.txt")
    text = alert.read_text(encoding="utf-8")
    assert "stockage objet" in text and "réseau" in text

    relay.restore()  # the store is back: the task again completes the upload
    second = publishing.prepare(later)
    assert complete(store, build_id) and pointer(store)["build_id"] == first.build_id
    relay.puts = 0  # away again just as the pointer is written
    with pytest.raises(bucket.SiteStoreUnreachable):
        publishing.go_live(second.build_id)
    assert pointer(store)["build_id"] == first.build_id
    relay.restore()
    published = publishing.go_live(second.build_id)
    assert published.build_id == second.build_id == pointer(store)["build_id"]
    assert remote_files(store, second.build_id) == local_files(
        data_dir / "site" / "builds" / second.build_id)
    assert pointer(store)["previous"] == [first.build_id]


def test_a_store_away_makes_go_live_and_rollback_fail_cleanly(store, relay, data_dir, capsys):
    first = publishing.publish(REFERENCE_RUN)
    relay.cut()
    with pytest.raises(bucket.SiteStoreUnreachable, match="ne répond pas"):
        publishing.go_live(first.build_id)  # a retry while the store is away
    assert cli(["rollback"]) == 1  # make rollback: one French line, no traceback
    assert "Impossible : le stockage objet du site" in capsys.readouterr().err
    relay.restore()
    assert pointer(store)["build_id"] == first.build_id


_run_offsets = itertools.count(300)  # run times distinct from the other DAG tests'


@pytest.mark.slow
@pytest.mark.airflow
def test_the_publication_dag_publishes_to_the_bucket(store, data_dir, dagbag):
    dag = dagbag.get_dag("publication_site")
    dag_run = dag.test(run_after=REFERENCE_RUN + timedelta(seconds=next(_run_offsets)))
    assert dag_run.state == "success"
    live = pointer(store)
    assert complete(store, live["build_id"]) and live["pages"] > 0
    published = dag_run.get_task_instance("mettre_en_ligne").xcom_pull(
        task_ids="mettre_en_ligne")
    assert published["path"] == f"{store.url('site')}/builds/{live['build_id']}/"


@pytest.mark.slow
@pytest.mark.airflow
def test_a_missing_bucket_fails_the_dag_at_its_start_naming_the_setting(store, data_dir, dagbag,
                                                                      monkeypatch):
    monkeypatch.setenv("INCLUSION_SITE_STORE_URL", "s3://inclusion-absent/site")
    dag = dagbag.get_dag("publication_site")
    dag_run = dag.test(run_after=REFERENCE_RUN + timedelta(seconds=next(_run_offsets)))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["construire"] == "failed" and states["mettre_en_ligne"] == "upstream_failed"
    alert = "\n".join(p.read_text(encoding="utf-8") for p in (data_dir / "alertes").glob("*.txt"))
    assert "INCLUSION_SITE_STORE_URL" in alert and "inclusion-absent" in alert
    assert not (data_dir / "site" / "attente").exists()  # nothing built
