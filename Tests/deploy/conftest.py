"""Fixtures for the deployment suite. The end-to-end `stack` is started once per session, only
when an end-to-end test asks for it (the static tests run without any process)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import pytest

import stack as st

#: Scrapes of every target to wait for before querying (the 1m rates need at least two).
MIN_SCRAPES = 3
#: Upper bound for the stack to come up and be scraped MIN_SCRAPES times (scrape interval 5 s).
SCRAPE_DEADLINE = 45.0


@dataclass
class Stack:
    servers: list[st.Process]
    server_addresses: list[str]
    client: st.Process | None
    client_address: str | None
    prometheus: st.Process
    prometheus_address: str
    api: st.PrometheusAPI
    traffic: st.Traffic

    @property
    def has_client(self) -> bool:
        return self.client is not None

    def diagnostics(self) -> str:
        parts = [f"traffic: {self.traffic.counts}"]
        for process in [*self.servers, self.client, self.prometheus]:
            if process is not None:
                parts.append(f"--- {process.name} (alive={process.alive()}):\n{process.log_text(15)}")
        return "\n".join(parts)


def _wait_for_scrapes(api: st.PrometheusAPI, expected_targets: int) -> None:
    deadline = time.monotonic() + SCRAPE_DEADLINE
    last = ""
    while time.monotonic() < deadline:
        targets = api.targets()
        healthy = [t for t in targets if t["health"] == "up"]
        scrapes = api.query("count_over_time(up[1m])")
        enough = [s for s in scrapes if float(s["value"][1]) >= MIN_SCRAPES]
        last = f"{len(healthy)}/{len(targets)} targets up, {len(enough)} with {MIN_SCRAPES}+ scrapes"
        if len(targets) == expected_targets and len(healthy) == len(enough) == expected_targets:
            return
        time.sleep(1)
    raise st.StackError(f"Prometheus did not scrape every target {MIN_SCRAPES} times in "
                        f"{SCRAPE_DEADLINE:.0f} s: {last}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started: list[st.Process] = []
    traffic = None
    try:
        servers, addresses = [], []
        for _ in range(2):  # two replicas, as `--scale grpcserver=2` would give
            server, address = st.start_server()
            started.append(server)
            servers.append(server)
            addresses.append(address)
        client = client_address = None
        if st.client_binary().exists():
            client, client_address = st.start_client(addresses[0])
            started.append(client)
        prometheus, prometheus_address = st.start_prometheus(
            tmp_path_factory.mktemp("prometheus"), servers=addresses,
            clients=[client_address] if client_address else [])
        started.append(prometheus)
        api = st.PrometheusAPI(prometheus_address)
        traffic = st.Traffic(addresses, client_address).start()
        _wait_for_scrapes(api, expected_targets=len(started))  # every process is a target
        yield Stack(servers, addresses, client, client_address, prometheus, prometheus_address, api, traffic)
    except st.StackError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        if traffic is not None:
            traffic.stop()
        for process in reversed(started):
            process.stop()
