"""The app as two replicas behind nginx with deploy/nginx.conf: each visitor's calls stay on one replica,
visitors spread over both, streams pass through, and a replica that goes down hands its visitors over."""
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from conftest import free_port
from recording_engine import RecordingEngine

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
GREEDY = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=12, temperature=0.0, top_k=0, top_p=1.0,
              repetition_penalty=1.0, seed=0)
START_TIMEOUT_S = 10
CALL_TIMEOUT_S = 60  # a call whose parts reach different replicas never ends: fail instead of waiting
COOKIES = 16  # distinct visitors: their hashes land on both replicas (fixed values, so always the same way)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (Debian: apt-get install -y nginx-light); it serves deploy/nginx.conf")


def balancer_config(listen: int, replicas: list[int]) -> str:
    """deploy/nginx.conf with the test's ports, and a header naming the replica that answered."""
    text = CONFIG.read_text()
    replacements = {"listen 7860;": f"listen 127.0.0.1:{listen};",
                    "server 127.0.0.1:7861 ": f"server 127.0.0.1:{replicas[0]} ",
                    "server 127.0.0.1:7862 ": f"server 127.0.0.1:{replicas[1]} ",
                    "proxy_pass http://rnn_playground;": "proxy_pass http://rnn_playground;\n"
                                                         "            add_header X-Replica $upstream_addr always;"}
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("nginx did not start listening")


@contextmanager
def balancer(folder: Path, replicas: list[int]):
    """nginx in the foreground, its files in `folder`; yields its URL."""
    port = free_port()
    (folder / "nginx.conf").write_text(balancer_config(port, replicas))
    process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr",
                                "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=START_TIMEOUT_S)


@contextmanager
def replicas_behind_nginx(serve_app, folder: Path):
    """Two replicas (each its own engine, queue and sessions) behind nginx: yields (URL, {port: engine},
    {port: demo})."""
    with ExitStack() as stack:
        engines, demos = {}, {}
        for _ in range(2):
            engine = RecordingEngine(ROOT / "assets")  # the shipped models: loaded, not trained
            demo = stack.enter_context(serve_app(engine))
            port = int(demo.local_url.rstrip("/").rsplit(":", 1)[1])
            engines[port], demos[port] = engine, demo
        yield stack.enter_context(balancer(folder, list(engines))), engines, demos


@pytest.fixture(scope="module")
def cluster(serve_app, tmp_path_factory):
    with replicas_behind_nginx(serve_app, tmp_path_factory.mktemp("nginx")) as running:
        yield running


@pytest.fixture()
def own_cluster(serve_app, tmp_path):
    """A cluster of the test's own, which it may break."""
    with replicas_behind_nginx(serve_app, tmp_path) as running:
        yield running


def replica_of(response: httpx.Response) -> int:
    return int(response.headers["x-replica"].rsplit(":", 1)[1])


def config_page(url: str, cookie: str | None = None) -> httpx.Response:
    """GET /config through nginx, with the cookie `rnn_replica=cookie` or none (nothing kept between calls)."""
    headers = {"Cookie": f"rnn_replica={cookie}"} if cookie else {}
    response = httpx.get(url + "config", headers=headers, timeout=START_TIMEOUT_S)
    assert response.status_code == 200
    return response


def generate(client: Client, **overrides) -> list:
    """The outputs a /generate call streamed, the last one complete (TimeoutError if it never ends)."""
    job = client.submit(**{**GREEDY, **overrides}, api_name="/generate")
    job.result(timeout=CALL_TIMEOUT_S)
    return job.outputs()


def streams_by_replica(engines: dict) -> dict[int, int]:
    return {port: engine.started for port, engine in engines.items()}


def test_each_client_stays_on_one_replica_and_streams_pass_through(cluster):
    url, engines, _ = cluster
    direct = f"http://127.0.0.1:{next(iter(engines))}/"
    expected = generate(Client(direct, verbose=False))[-1][0]
    for _ in range(3):  # three visitors, each with the cookie nginx gave it
        client = Client(url, verbose=False)
        before = streams_by_replica(engines)
        for seed in range(3):
            outputs = generate(client, seed=seed)  # streamed through nginx: the text grows chunk by chunk
            assert len(outputs) > 1 and outputs[-1][0] == expected
        grown = {port: count - before[port] for port, count in streams_by_replica(engines).items()}
        assert sorted(grown.values()) == [0, 3]  # all three of its streams on one replica


def test_visitors_spread_over_the_replicas_and_keep_theirs(cluster):
    url, engines, _ = cluster
    without = [config_page(url) for _ in range(4)]
    assert all("rnn_replica" in answer.cookies for answer in without)  # a fresh cookie for each newcomer
    assert len({replica_of(answer) for answer in without}) == 1  # until it comes back with it: by address
    homes = {}
    for visitor in range(COOKIES):
        answers = [config_page(url, f"visitor-{visitor}") for _ in range(3)]
        assert {replica_of(answer) for answer in answers} == {replica_of(answers[0])}
        assert "set-cookie" not in answers[0].headers  # it has its cookie: nginx sets none
        homes[visitor] = replica_of(answers[0])
    assert set(homes.values()) == set(engines)


def test_the_visitors_of_a_stopped_replica_move_to_the_other(own_cluster):
    url, engines, demos = own_cluster
    client = Client(url, verbose=False)
    first = generate(client)[-1][0]
    home = next(port for port, engine in engines.items() if engine.started)
    demos[home].close()
    assert generate(client)[-1][0] == first  # its next call goes to the other
    assert generate(Client(url, verbose=False))[-1][0] == first  # and new visitors too
    other = next(port for port in engines if port != home)
    assert engines[other].started == 2
