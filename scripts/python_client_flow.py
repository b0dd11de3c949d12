"""The provisioning-profile walk-through, through a Python client generated from the
OpenAPI document that spcm serves (scripts/python-client.sh runs it).

    python python_client_flow.py BASE_URL TENANT PASSWORD CATALOGUE_WRITE_TOKEN CATALOGUE_READ_TOKEN CATALOGUE_JSON

Each step checks its answer; the first step that fails stops the script with exit status 1.
"""

import base64
import json
import sys
from http import HTTPStatus

from spcm_client import AuthenticatedClient
from spcm_client.api.catalogue import import_ as import_catalogue
from spcm_client.api.catalogue import provisioning_profiles as catalogue_profiles
from spcm_client.api.provisioning_profiles import create, delete_one, get_one, list_, update_one
from spcm_client.models import (
    CatalogueDocument,
    MultiStatus,
    NewProfileRequest,
    ProfileChangeRequest,
    ProfileList,
    ProvisioningProfile,
    SpcmErrorBody,
)
from spcm_client.types import UNSET

STEPS = 0


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def step(name):
    global STEPS
    STEPS += 1
    print(f"  {STEPS}. {name}", file=sys.stderr)


def expect(response, status, kind):
    """The parsed body of `response`, which must have `status` and parse as `kind`."""
    body = response.content.decode("utf-8", "replace")[:300]
    check(response.status_code == status, f"expected {int(status)}, got {int(response.status_code)}: {body}")
    if kind is not None:
        check(isinstance(response.parsed, kind), f"expected a {kind}, got {type(response.parsed)}: {body}")
    return response.parsed


def main(base_url, tenant, password, write_token, read_token, catalogue_path):
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    spcm = AuthenticatedClient(
        base_url=base_url, token=basic, prefix="Basic", headers={"tenant": tenant}, raise_on_unexpected_status=True
    )
    writer = AuthenticatedClient(base_url=base_url, token=write_token, raise_on_unexpected_status=True)
    reader = AuthenticatedClient(base_url=base_url, token=read_token, raise_on_unexpected_status=True)

    step("create the two profiles of the walk-through")
    turkey = expect(
        create.sync_detailed(
            client=spcm,
            body=NewProfileRequest(
                name="turkeySauce",
                default_profile=False,
                locale="en",
                initial_core_plan_name="turkey",
                subscriber_class="gold",
                subscriber_type="POSTPAID",
                dps_enabled=False,
                dps_notification=False,
                eos_notification=False,
                payg_notification=False,
            ),
        ),
        HTTPStatus.CREATED,
        ProvisioningProfile,
    )
    cha_cha = expect(
        create.sync_detailed(
            client=spcm,
            body=NewProfileRequest(
                name="chaCha",
                default_profile=True,
                locale="en",
                initial_core_plan_name="prepaidCORE",
                subscriber_class="Standard",
                subscriber_type="PREPAID",
            ),
        ),
        HTTPStatus.CREATED,
        ProvisioningProfile,
    )
    check(turkey.name == "turkeySauce" and turkey.subscriber_type == "POSTPAID", turkey)
    check(cha_cha.default_profile and not cha_cha.payg_notification, cha_cha)

    step("list them, ordered by id")
    listed = expect(list_.sync_detailed(client=spcm), HTTPStatus.OK, ProfileList)
    check(listed.length == 2, f"length {listed.length}")
    names = [p.name for p in listed.provisioning_profile_dto_list]
    check(names == ["turkeySauce", "chaCha"], names)
    only_default = expect(list_.sync_detailed(client=spcm, default_profile=True), HTTPStatus.OK, ProfileList)
    check([p.name for p in only_default.provisioning_profile_dto_list] == ["chaCha"], only_default)

    step("change one field and a flag, sending only those")
    change = ProfileChangeRequest(subscriber_class="platinum", payg_notification=True)
    check(set(change.to_dict()) == {"subscriberClass", "paygNotification"}, change.to_dict())
    changed = expect(update_one.sync_detailed(turkey.id, client=spcm, body=change), HTTPStatus.OK, ProvisioningProfile)
    check(changed.subscriber_class == "platinum" and changed.payg_notification, changed)
    check(changed.initial_core_plan_name == "turkey" and changed.locale == "en", "the other fields keep their value")

    step("move the default to turkeySauce")
    moved = expect(
        update_one.sync_detailed(turkey.id, client=spcm, body=ProfileChangeRequest(default_profile=True)),
        HTTPStatus.OK,
        ProvisioningProfile,
    )
    check(moved.default_profile, moved)
    former = expect(get_one.sync_detailed(cha_cha.id, client=spcm), HTTPStatus.OK, ProvisioningProfile)
    check(not former.default_profile, "chaCha is no longer the default")
    refused = expect(
        update_one.sync_detailed(turkey.id, client=spcm, body=ProfileChangeRequest(default_profile=False)),
        HTTPStatus.UNPROCESSABLE_ENTITY,
        SpcmErrorBody,
    )
    check(refused.error_code == 1002, refused)

    step("create a batch holding a name already taken: 207, the duplicate 409")
    batch = expect(
        create.sync_detailed(
            client=spcm,
            body=[
                NewProfileRequest(name="bulkOne", default_profile=False),
                NewProfileRequest(name="chaCha", default_profile=False),
                NewProfileRequest(name="bulkTwo", default_profile=False, subscriber_type="prepaid"),
            ],
        ),
        HTTPStatus.MULTI_STATUS,
        MultiStatus,
    )
    check(batch.length == 3, batch)
    statuses = [(r.index, r.status) for r in batch.results]
    check(statuses == [(0, 201), (1, 409), (2, 201)], statuses)
    check(batch.results[1].error_code == 409 and "chaCha" in batch.results[1].message, batch.results[1])
    check(batch.results[1].provisioning_profile is UNSET, "a failed item carries no profile")
    bulk_one = batch.results[0].provisioning_profile
    check(batch.results[2].provisioning_profile.subscriber_type == "PREPAID", "stored upper-case")

    step("delete one")
    expect(delete_one.sync_detailed(bulk_one.id, client=spcm), HTTPStatus.NO_CONTENT, None)
    gone = expect(get_one.sync_detailed(bulk_one.id, client=spcm), HTTPStatus.NOT_FOUND, SpcmErrorBody)
    check(gone.error_code == 404, gone)
    listed = expect(list_.sync_detailed(client=spcm), HTTPStatus.OK, ProfileList)
    check([p.name for p in listed.provisioning_profile_dto_list] == ["turkeySauce", "chaCha", "bulkTwo"], listed)

    step("import the sample catalogue")
    with open(catalogue_path, encoding="utf-8") as file:
        document = CatalogueDocument.from_dict(json.load(file))
    counts = expect(
        import_catalogue.sync_detailed(tenant, client=writer, body=document), HTTPStatus.OK, None
    )
    check(counts.bundled_products == 2 and counts.base_profiles == 2, counts)

    step("read a bundled product's provisioning profiles in the catalogue view")
    views = expect(catalogue_profiles.sync_detailed(tenant, "BP1", client=reader), HTTPStatus.OK, list)
    by_name = {view.name: view for view in views}
    check(set(by_name) == {"turkeySauce", "chaCha"}, sorted(by_name))
    check(by_name["turkeySauce"].id == str(turkey.id), "the view shows the SPCM profile's id")
    check(by_name["turkeySauce"].activation_work_order_type_id is not None, by_name["turkeySauce"])
    for view in views:
        since = view.in_catalogue_since
        check(since is None or since.tzinfo is not None, f"{view.name}: a date-time with its offset: {since!r}")

    print(f"python client flow: {STEPS} steps passed", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except Exception as err:  # noqa: BLE001 - every failure ends the flow with its reason
        print(f"python client flow: step {STEPS} failed: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
