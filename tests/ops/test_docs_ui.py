"""``/docs`` works without the internet: the page loads Swagger UI from camnet itself."""

from __future__ import annotations

import re
from pathlib import Path

from tests.inprocess import inprocess_server


def test_the_docs_page_and_its_files_come_from_camnet(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert "cdn." not in page.text
        loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert loaded, page.text
        assert all(url.startswith("/docs/assets/") for url in loaded), loaded
        for url in loaded:
            asset = http.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100
        script = http.get("/docs/assets/swagger-ui-bundle.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "SwaggerUIBundle" in script.text
        assert http.get("/docs/assets/index.html").status_code == 404
        escape = http.get("/docs/assets/..%2F..%2Fpyproject.toml")  # no route: closed
        assert escape.status_code in (401, 404)
        assert "[project]" not in escape.text
        assert http.get("/docs/oauth2-redirect").status_code == 200
        assert http.get("/openapi.json").status_code == 200
