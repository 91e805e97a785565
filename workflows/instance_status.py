"""What an instance's list row says (status, open incident, current elements), published by the
instance itself as Temporal search attributes.

Choice (issue K, "the instance list lies"): Temporal's visibility with custom search attributes that
the workflow upserts, rather than the workflow writing an instance row through its own activities.

- One store per fact. Whether an instance runs, completed, failed, was cancelled or terminated, and
  when it closed, is Temporal's fact: visibility records it for *every* execution, however started
  (API, monitor, demo, message or timer start, call activity, schedule) and however ended, including
  ends the workflow never sees (terminated from the CLI, timed out, a worker that is gone). A row
  written by the workflow could only say what the workflow lived to report, and would copy that fact
  into a second store. What only the workflow knows (an open incident, where its tokens are) is
  published by it next to that fact: ``MomIncident`` and ``MomElements``, plus who it is
  (``MomProcessId``, ``MomVersion``, ``MomBusinessKey``, ``MomStartedBy``) so the list filters on them.
- Within a second. The upsert is a command of the workflow task that opened the incident or moved the
  token; the server's visibility queue writes it after that task completes (the dev server: a few ms,
  checked within 2 s by tests/api/test_api_instance_list.py; Elasticsearch: its refresh interval, 1 s by default).
  An activity would add a round-trip to a worker and a database write per change, and fail when the
  database does.
- History and replay cost. One ``UpsertWorkflowSearchAttributes`` event, only when what the list shows
  changed, and only at the points where the instance waits (not per engine step): a changed list of
  elements per wait. An activity would add two to three events per change plus a marker for a local one.
- Filters and pages. The API's list queries visibility (:mod:`mom.instance_list`): by process,
  status (``ExecutionStatus``), open incident, business key or its prefix (``STARTS_WITH``), counted
  with ``count_workflows`` and paged. The ``process_instances`` table keeps what the API itself knows
  at a start (who asked, for the inbox); it no longer answers the list.
- Registration. The attributes must exist in the namespace before a worker runs this code (an upsert
  of an unknown attribute fails the workflow task). ``mom up``, ``mom demo`` and the tests' dev servers
  pass ``--search-attribute`` (:func:`dev_server_options`; it registers them only when it creates the
  namespace), and every cloud worker registers missing ones before it polls
  (:func:`mom.instance_list.register_search_attributes`: an older data directory, docker-compose's
  Temporal); where a worker may not, a cluster's operator runs the commands the README lists
  (``temporal operator search-attribute create``).

Replay: the first upsert is guarded by ``workflow.patched(STATUS_PATCH)``; histories recorded before
it replay without any upsert (and such a run publishes nothing until it continues as new).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

STATUS_PATCH = "instance-status-v1"

PROCESS_ID = SearchAttributeKey.for_keyword("MomProcessId")
VERSION = SearchAttributeKey.for_int("MomVersion")
BUSINESS_KEY = SearchAttributeKey.for_keyword("MomBusinessKey")
STARTED_BY = SearchAttributeKey.for_keyword("MomStartedBy")
INCIDENT = SearchAttributeKey.for_bool("MomIncident")
ELEMENTS = SearchAttributeKey.for_keyword_list("MomElements")

ATTRIBUTES: dict[str, str] = {
    "MomProcessId": "Keyword",
    "MomVersion": "Int",
    "MomBusinessKey": "Keyword",
    "MomStartedBy": "Keyword",
    "MomIncident": "Bool",
    "MomElements": "KeywordList",
}
"""Name and Temporal type of each search attribute the instances publish (register them all)."""


def dev_server_options() -> list[str]:
    """``temporal server start-dev`` options that register :data:`ATTRIBUTES`."""
    options: list[str] = []
    for name, kind in ATTRIBUTES.items():
        options += ["--search-attribute", f"{name}={kind}"]
    return options


def cluster_commands(namespace: str = "default") -> list[str]:
    """The commands that register :data:`ATTRIBUTES` on a Temporal cluster (for the README)."""
    return [f"temporal operator search-attribute create --namespace {namespace} --name {name} --type {kind}"
            for name, kind in ATTRIBUTES.items()]


def identity_updates(process_id: str, version: int | None, business_key: str | None,
                     started_by: str | None) -> list[SearchAttributeUpdate]:
    """Who the instance is (published once per run, with its first status)."""
    updates: list[SearchAttributeUpdate] = [PROCESS_ID.value_set(process_id)]
    if version is not None:
        updates.append(VERSION.value_set(int(version)))
    if business_key:
        updates.append(BUSINESS_KEY.value_set(business_key))
    if started_by:
        updates.append(STARTED_BY.value_set(started_by))
    return updates


def identity_at_start(process_id: str, version: int | None, business_key: str | None,
                      started_by: str | None) -> TypedSearchAttributes:
    """The same, given by a client that starts an instance (no workflow command: listed by process and
    business key from its start, before a worker has run it)."""
    pairs: list[SearchAttributePair[str] | SearchAttributePair[int]] = [SearchAttributePair(PROCESS_ID, process_id)]
    if version is not None:
        pairs.append(SearchAttributePair(VERSION, int(version)))
    if business_key:
        pairs.append(SearchAttributePair(BUSINESS_KEY, business_key))
    if started_by:
        pairs.append(SearchAttributePair(STARTED_BY, started_by))
    return TypedSearchAttributes(pairs)


def status_updates(incident: bool, elements: Sequence[str]) -> list[SearchAttributeUpdate]:
    """Whether an incident is open and the elements holding a token now."""
    return [INCIDENT.value_set(incident), ELEMENTS.value_set(sorted(set(elements)))]


def read(attributes: TypedSearchAttributes) -> dict[str, object]:
    """The published values of an execution's search attributes (absent ones omitted)."""
    found: dict[str, object] = {}
    for pair in attributes.search_attributes:
        if pair.key.name in ATTRIBUTES:
            found[pair.key.name] = pair.value
    return found
