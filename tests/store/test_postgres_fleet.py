"""Existing fleet and identity tests, run unchanged against a server on PostgreSQL.

The test functions are imported from their modules; the ``fleet_server`` fixture here
serves them from a fresh PostgreSQL database seeded like the SQLite one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet import test_auth, test_devices, test_webhooks
from tests.fleet.conftest import seed
from tests.inprocess import InProcessServer, inprocess_server
from tests.postgres import scratch_database

# Bound in the order of their own modules: pytest runs them in this order, and some
# build on what the one before did to the module's server.
test_login_answers_the_seeds_body = test_auth.test_login_answers_the_seeds_body
test_wrong_password_and_unknown_email_are_the_same_401 = (
    test_auth.test_wrong_password_and_unknown_email_are_the_same_401
)
test_refresh_rotates_and_a_reused_token_ends_the_session = (
    test_auth.test_refresh_rotates_and_a_reused_token_ends_the_session
)
test_api_keys_are_shown_once_and_work = test_auth.test_api_keys_are_shown_once_and_work
admin = test_devices.admin
test_paging_meta_on_zero_one_and_many_pages = (
    test_devices.test_paging_meta_on_zero_one_and_many_pages
)
test_sorting_and_filters = test_devices.test_sorting_and_filters
test_edits_are_versioned_and_limited_to_the_editable_fields = (
    test_devices.test_edits_are_versioned_and_limited_to_the_editable_fields
)
test_tenants_see_only_their_devices = test_devices.test_tenants_see_only_their_devices
receiver = test_webhooks.receiver
test_webhook_fields_and_answers = test_webhooks.test_webhook_fields_and_answers
test_payload_deliveries_are_signed_per_standard_webhooks = (
    test_webhooks.test_payload_deliveries_are_signed_per_standard_webhooks
)


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("fleet-pg")
    with scratch_database() as url:
        seed(data_dir, url)
        with inprocess_server(
            data_dir,
            db=url,
            webhook_allow="127.0.0.0/8,::1",
            image_ready_delay=20,
            simulation_interval=0.2,
            webhook_retry_base=5,
            webhook_retry_max=60,
        ) as running:
            yield running
