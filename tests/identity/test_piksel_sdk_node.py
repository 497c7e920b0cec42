"""Piksel's JavaScript SDK itself, run by Node.js against a real camnet on loopback.

The SDK is not in this repository and the test machines have no network to fetch it, so
this test runs only where ``CAMNET_PIKSEL_SDK`` names a prepared copy, and is skipped
otherwise (``test_piksel_sdk.py`` replays the same flow in Python everywhere). To prepare
one (Node.js 18+, whose global ``fetch`` the SDK uses)::

    git clone https://github.com/pikselpalette/sequoia-js-client-sdk sdk && cd sdk
    echo '{"type": "module", "private": true}' > package.json
    npm install date-fns@1 deepmerge@4 encodeurl@1 lodash.delay@4 qs@6
    # Node's ES modules need file extensions in relative imports and CommonJS subpaths:
    sed -i -E "s#from '\\./([a-z_]+)';#from './\\1.js';#" lib/*.js
    sed -i "s#\\(difference_in_milliseconds\\)'#\\1/index.js'#" lib/session.js
    CAMNET_PIKSEL_SDK=$PWD pytest tests/identity/test_piksel_sdk_node.py
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.identity.test_piksel_sdk import APP_SECRET, piksel_server

SCRIPT = """
import Client from %(client)s;
const [url, secret, adminToken] = process.argv.slice(2);
const out = {};
const pauth = new Client({ directory: 'test', registryUri: url });
await pauth.login('test-user', 'itsasecret');
out.pauth = { tenants: pauth.session.tenants.map(t => t.name), tenant: pauth.registry.tenant,
              access: pauth.session.access.permissions.map(p => p.tenant) };
const descriptors = await pauth.serviceDescriptors();
out.descriptors = descriptors.length;
out.users = JSON.stringify(await descriptors[0].businessEndpoint('users_list').fetch());
const oauth = new Client({ directory: 'test', registryUri: url });
await oauth.login('test-user', 'itsasecret', { strategy: 'oauth', secret });
out.oauth = oauth.session.tenants.map(t => t.name);
const app = new Client({ directory: 'owner', registryUri: url });
await app.login(null, null, { strategy: 'oauth', secret });
out.app = { tenants: app.session.tenants.map(t => t.name), type: app.session.access.userType };
const admin = new Client({ directory: 'default', registryUri: url });
await admin.generate(adminToken);
out.generate = admin.session.tenants.map(t => t.name);
await admin.setTenancy('test');
out.tenancy = admin.session.access.permissions.map(p => p.tenant);
console.log(JSON.stringify(out));
"""


def test_the_sdk_signs_in_every_way_and_reads_tenants_access_and_descriptors(
    tmp_path: Path,
) -> None:
    sdk = os.environ.get("CAMNET_PIKSEL_SDK")
    node = shutil.which("node")
    if not sdk or node is None:
        pytest.skip("set CAMNET_PIKSEL_SDK to a prepared copy of the SDK (see the docstring)")
    with piksel_server(tmp_path / "data") as server:
        run_the_sdk(server.url, server.admin_password, sdk, node, tmp_path)


def run_the_sdk(url: str, admin_password: str, sdk: str, node: str, tmp_path: Path) -> None:
    client = (Path(sdk) / "lib" / "client.js").resolve()
    script = tmp_path / "run.mjs"
    script.write_text(SCRIPT % {"client": json.dumps(client.as_uri())})
    token = httpx.post(
        f"{url}/pauth/token", json={"username": "default\\admin", "password": admin_password}
    ).json()["access_token"]
    secret = base64.b64encode(f"owner.app:{APP_SECRET}".encode()).decode()
    run = subprocess.run(
        [node, str(script), url, secret, token],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["pauth"] == {"tenants": ["test"], "tenant": "test", "access": ["test"]}
    assert out["descriptors"] >= 4
    assert "test-user" in out["users"]
    assert out["oauth"] == ["test"]
    assert out["app"] == {"tenants": ["owner"], "type": "service"}
    assert out["generate"][0] == "default"
    assert out["tenancy"] == ["test"]
