"""Real HTTP cache libraries in front of a live spcm (scripts/http-cache.sh runs it).

    python http_cache_check.py BASE_URL SETUP_JSON

SETUP_JSON holds the passwords and tokens that http-cache.sh made with the CLI: two
tenants, acme and zeta, each with a user `ops` who may read and create profiles, a user
`writer` who may only create them, a catalogue read token and a catalogue write token.
The script gives each tenant one profile and one catalogue, alike, so that each tenant
has had as many changes as the other.

For each library (cachecontrol, requests-cache, hishel), ONE session, one cache, asks
the same URLs as one tenant and then the other, as a user without the read permission,
and in JSON and then XML, and checks that every answer is the one that caller and that
representation should get: never another tenant's data, never a cached 200 for a caller
who may not read, never JSON for XML. Each session must also have answered a repeated
request from its cache (after revalidating it), or the check would prove nothing.
Exit status 1 when any check fails; every check is printed.
"""

import base64
import json
import sys

import cachecontrol
import hishel
import hishel.httpx
import httpx
import requests
import requests_cache

PROFILES = "/pcc/spcm/provisionProfile"
JSON = "application/json"
XML = "application/xml"


def basic(tenant, username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "tenant": tenant}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Answer:
    def __init__(self, status, content_type, text, from_cache):
        self.status = status
        self.content_type = content_type or ""
        self.text = text
        self.from_cache = from_cache

    def json(self):
        return json.loads(self.text)


class RequestsSession:
    """A requests session behind a cache adapter (cachecontrol, requests-cache)."""

    def __init__(self, name, session, base):
        self.name, self.session, self.base = name, session, base

    def get(self, path, headers):
        response = self.session.get(self.base + path, headers=headers, timeout=10)
        return Answer(response.status_code, response.headers.get("content-type"), response.text,
                      bool(getattr(response, "from_cache", False)))


class HishelSession:
    """An httpx client behind hishel's cache transport, following RFC 9111."""

    def __init__(self, name, client, base):
        self.name, self.client, self.base = name, client, base

    def get(self, path, headers):
        response = self.client.get(self.base + path, headers=headers)
        response.read()
        status = response.extensions.get("caching") or {}
        return Answer(response.status_code, response.headers.get("content-type"), response.text,
                      bool(status.get("from_cache") or status.get("revalidated")))


def sessions(base):
    yield RequestsSession("cachecontrol", cachecontrol.CacheControl(requests.Session()), base)
    # cache_control=True: the cache follows the server's Cache-Control (by default it
    # keeps every answer for ever, whatever any server says).
    yield RequestsSession("requests-cache",
                          requests_cache.CachedSession(backend="memory", cache_control=True), base)
    # A private cache, as in a client application: it may keep `private` answers.
    storage = hishel.SqliteStorage(database_path=":memory:")
    transport = hishel.httpx.CacheTransport(httpx.HTTPTransport(), storage=storage,
                                            rfc=hishel.CacheOptions(shared=False))
    yield HishelSession("hishel", httpx.Client(transport=transport, timeout=10), base)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def expect(self, session, what, condition, detail):
        if condition:
            self.passed += 1
            print(f"  ok    {session.name}: {what}", file=sys.stderr)
        else:
            self.failed.append(f"{session.name}: {what}: {detail}")
            print(f"  FAIL  {session.name}: {what}: {detail}", file=sys.stderr)


def names_in_json(answer):
    try:
        return [p["name"] for p in answer.json()["provisioningProfileDTOList"]]
    except (ValueError, KeyError, TypeError):
        return None


def run(session, setup, checks):
    acme, zeta = setup["acme"], setup["zeta"]
    as_acme = basic("acme", "ops", acme["ops"])
    as_zeta = basic("zeta", "ops", zeta["ops"])
    as_writer = basic("acme", "writer", acme["writer"])

    def listing(what, headers, accept, status, names):
        answer = session.get(PROFILES, {**headers, "Accept": accept})
        if status != 200:
            checks.expect(session, what, answer.status == status, f"status {answer.status}, body {answer.text[:200]}")
            return answer
        if accept == XML:
            good = (answer.status == 200 and answer.content_type.startswith(XML)
                    and all(f"<name>{n}</name>" in answer.text for n in names)
                    and answer.text.count("<provisioningProfile>") == len(names))
        else:
            good = (answer.status == 200 and "json" in answer.content_type and names_in_json(answer) == names)
        checks.expect(session, what, good,
                      f"status {answer.status}, {answer.content_type}, body {answer.text[:200]}")
        return answer

    # The listing: tenants, users and representations in turn, on one URL.
    listing("acme's listing", as_acme, JSON, 200, ["acme-profile"])
    again = listing("acme's listing again", as_acme, JSON, 200, ["acme-profile"])
    checks.expect(session, "the repeated listing came from the cache (revalidated)", again.from_cache,
                  "the library did not cache the answer at all: this check would prove nothing")
    listing("zeta's listing on the same URL", as_zeta, JSON, 200, ["zeta-profile"])
    listing("acme's listing after zeta's", as_acme, JSON, 200, ["acme-profile"])
    listing("a user without the read permission gets 403", as_writer, JSON, 403, [])
    listing("acme's listing in XML", as_acme, XML, 200, ["acme-profile"])
    listing("acme's listing in JSON after XML", as_acme, JSON, 200, ["acme-profile"])
    listing("zeta's listing in XML", as_zeta, XML, 200, ["zeta-profile"])
    listing("a user without the read permission gets 403, after XML", as_writer, XML, 403, [])

    # One profile: another tenant's id is not found, whatever the cache holds.
    path = f"{PROFILES}/{acme['profile_id']}"
    answer = session.get(path, {**as_acme, "Accept": JSON})
    checks.expect(session, "acme's profile", answer.status == 200 and answer.json().get("name") == "acme-profile",
                  f"status {answer.status}, body {answer.text[:200]}")
    answer = session.get(path, {**as_acme, "Accept": JSON})
    checks.expect(session, "acme's profile again, from the cache (revalidated)",
                  answer.status == 200 and answer.json().get("name") == "acme-profile" and answer.from_cache,
                  f"status {answer.status}, from cache {answer.from_cache}")
    answer = session.get(path, {**as_zeta, "Accept": JSON})
    checks.expect(session, "acme's profile id asked by zeta is 404", answer.status == 404,
                  f"status {answer.status}, body {answer.text[:200]}")
    answer = session.get(path, {**as_writer, "Accept": JSON})
    checks.expect(session, "acme's profile asked by a user without the read permission is 403",
                  answer.status == 403, f"status {answer.status}, body {answer.text[:200]}")
    answer = session.get(path, {**as_acme, "Accept": XML})
    checks.expect(session, "acme's profile in XML",
                  answer.status == 200 and answer.content_type.startswith(XML)
                  and answer.text.count("<name>acme-profile</name>") == 1,
                  f"status {answer.status}, {answer.content_type}, body {answer.text[:200]}")

    # The catalogue face: the same URL with another org's token, or one that may not read.
    catalogue = "/v2/orgs/acme/catalogue"
    answer = session.get(catalogue, bearer(acme["read_token"]))
    checks.expect(session, "acme's catalogue", answer.status == 200 and "acme-service" in answer.text,
                  f"status {answer.status}, body {answer.text[:200]}")
    answer = session.get(catalogue, bearer(acme["read_token"]))
    checks.expect(session, "acme's catalogue again", answer.status == 200 and "acme-service" in answer.text,
                  f"status {answer.status}, body {answer.text[:200]}")
    for what, headers in [("zeta's token", bearer(zeta["read_token"])),
                          ("acme's token without the read permission", bearer(acme["write_token"])),
                          ("no token", {})]:
        answer = session.get(catalogue, headers)
        checks.expect(session, f"acme's catalogue with {what} is 401", answer.status == 401,
                      f"status {answer.status}, body {answer.text[:200]}")
    answer = session.get("/v2/orgs/zeta/catalogue", bearer(zeta["read_token"]))
    checks.expect(session, "zeta's catalogue", answer.status == 200 and "zeta-service" in answer.text
                  and "acme-service" not in answer.text, f"status {answer.status}, body {answer.text[:200]}")


def arrange(base, setup):
    """One profile and one catalogue per tenant, written alike, without any cache."""
    plain = requests.Session()
    for tenant in ("acme", "zeta"):
        headers = basic(tenant, "ops", setup[tenant]["ops"])
        created = plain.post(base + PROFILES, headers=headers, timeout=10,
                             json={"name": f"{tenant}-profile", "defaultProfile": True})
        if created.status_code != 201:
            sys.exit(f"creating {tenant}'s profile: {created.status_code} {created.text}")
        setup[tenant]["profile_id"] = created.json()["id"]
    for tenant in ("acme", "zeta"):
        document = {"services": [{"id": "1", "name": f"{tenant}-service"}], "base_profiles": [],
                    "value_added_services": [], "commercial_products": [], "bundled_products": []}
        imported = plain.put(f"{base}/v2/orgs/{tenant}/catalogue", json=document, timeout=10,
                             headers=bearer(setup[tenant]["write_token"]))
        if imported.status_code != 200:
            sys.exit(f"importing {tenant}'s catalogue: {imported.status_code} {imported.text}")


def main():
    base = sys.argv[1]
    with open(sys.argv[2]) as f:
        setup = json.load(f)
    arrange(base, setup)
    checks = Checks()
    for session in sessions(base):
        print(f"{session.name}: one session, two tenants, two users, JSON and XML", file=sys.stderr)
        run(session, setup, checks)
    print(f"{checks.passed} passed, {len(checks.failed)} failed")
    if checks.failed:
        for failure in checks.failed:
            print(f"FAILED {failure}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
