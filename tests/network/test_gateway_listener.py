"""The Gateway's own port: only ``/gateway/…``, the same gate, off when the port is taken."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.inprocess import inprocess_server


def test_the_gateway_port_serves_the_gateway_behind_the_same_gate(tmp_path: Path) -> None:
    with inprocess_server(tmp_path / "a") as first:
        listener = first.app.state.node.gateway_listener
        assert listener.status["state"] == "listening"
        with httpx.Client(base_url=listener.url, timeout=10) as http:
            admin = ("admin", first.admin_password)
            query = {
                "Type": "Get",
                "Target": f"{first.app.state.node.settings.machine_name}-C2",
                "Name": "State.light0",
            }
            answer = http.get("/gateway/24.1.0/publish", params=query, auth=admin)
            assert answer.status_code == 200, answer.text
            assert answer.json()[0]["Topic"]["Type"] == "Update"
            anonymous = http.get("/gateway/24.1.0/publish", params=query)
            assert anonymous.status_code == 401
            assert anonymous.json()[0]["Message"]["Value"]["statusCode"] == 401
            other = http.get("/api", params={"token": first.token})
            assert other.status_code == 404
            assert other.json()["statusCode"] == 404
        with inprocess_server(tmp_path / "b", gateway_port=listener.port) as second:
            taken = second.app.state.node.gateway_listener
            assert taken.status["state"] == "error"
            assert "in use" in str(taken.status["reason"])
            assert taken.url is None
            with second.client() as http:  # the node runs; the Gateway is on its main port
                admin = ("admin", second.admin_password)
                response = http.get("/gateway/1/publish", params={"Type": "Identify"}, auth=admin)
                assert response.status_code == 200
