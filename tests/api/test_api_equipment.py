"""The equipment hierarchy through the API: add nodes level by level, list and filter, a work
unit's OPC UA endpoint and node bindings; refusals (401, 403, 404, 409, 422)."""

from __future__ import annotations

import secrets

from api_client import Api


async def test_build_a_hierarchy_and_connect_a_work_unit(api: Api) -> None:
    name = f"Ent{secrets.token_hex(3)}"
    ids: list[int] = []
    for level, node in (("enterprise", name), ("site", "Lyon"), ("area", "Pressing"), ("work_center", "Line"),
                        ("work_unit", "Press1")):
        body = {"name": node, "level": level, "parent_id": ids[-1] if ids else None}
        if level == "site":
            body["time_zone"] = "Europe/Paris"
        response = await api.post("/equipment", "erin", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    press = await api.get(f"/equipment/{ids[-1]}", "otto")
    assert press.json()["path"] == f"{name}.Lyon.Pressing.Line.Press1" and press.json()["opcua_endpoint"] is None

    endpoint = await api.put(f"/equipment/{ids[-1]}/opcua-endpoint", "erin",
                             json={"url": "opc.tcp://127.0.0.1:4840/press1", "namespace_uri": "urn:press"})
    assert endpoint.status_code == 200 and endpoint.json()["security_mode"] == "None"
    bound = await api.put(f"/equipment/{ids[-1]}/node-bindings/state", "erin",
                          json={"node_id": "nsu=urn:press;s=Press1.State", "data_type": "Int32"})
    assert bound.status_code == 200 and bound.json()["access"] == "read"
    shown = (await api.get(f"/equipment/{ids[-1]}", "otto")).json()
    assert shown["opcua_endpoint"]["url"] == "opc.tcp://127.0.0.1:4840/press1"
    assert [(b["name"], b["node_id"]) for b in shown["node_bindings"]] == [("state", "nsu=urn:press;s=Press1.State")]

    under = await api.get("/equipment", "otto", params={"under_path": name})
    assert under.json()["total"] == 4
    units = await api.get("/equipment", "otto", params={"under_path": name, "level": "work_unit"})
    assert [u["name"] for u in units.json()["items"]] == ["Press1"]
    children = await api.get("/equipment", "otto", params={"parent_id": ids[0], "limit": 1})
    assert children.json()["total"] == 1 and children.json()["limit"] == 1

    # refusals
    dup = await api.post("/equipment", "erin", json={"name": "Lyon", "level": "site", "parent_id": ids[0]})
    assert dup.status_code == 409 and "Lyon" in dup.json()["detail"]
    wrong = await api.post("/equipment", "erin", json={"name": "X", "level": "work_unit", "parent_id": ids[0]})
    assert wrong.status_code == 422 and "work_center" in wrong.json()["detail"]
    assert (await api.post("/equipment", "erin", json={"name": "X", "level": "site",
                                                       "parent_id": 2**31 - 1})).status_code == 404
    assert (await api.post("/equipment", "erin", json={"name": "a.b", "level": "enterprise"})).status_code == 422
    zone = await api.post("/equipment", "erin", json={"name": "Y", "level": "site", "parent_id": ids[0],
                                                      "time_zone": "Mars/Olympus"})
    assert zone.status_code == 422 and "Mars/Olympus" in zone.json()["detail"]
    assert (await api.post("/equipment", "sam", json={"name": "Z", "level": "enterprise"})).status_code == 403
    assert (await api.http.post("/equipment", json={"name": "Z", "level": "enterprise"})).status_code == 401
    assert (await api.get("/equipment/2147483647", "otto")).status_code == 404
    assert (await api.get("/equipment/0", "otto")).status_code == 422
    assert (await api.http.get("/equipment")).status_code == 401
    assert (await api.get("/equipment", "nora")).status_code == 403
    site_endpoint = await api.put(f"/equipment/{ids[1]}/opcua-endpoint", "erin", json={"url": "opc.tcp://h:1"})
    assert site_endpoint.status_code == 422 and "work unit" in site_endpoint.json()["detail"]
    assert (await api.put(f"/equipment/{ids[-1]}/opcua-endpoint", "erin", json={"url": "http://h"})).status_code == 422
    assert (await api.put(f"/equipment/{ids[-1]}/opcua-endpoint", "otto",
                          json={"url": "opc.tcp://h:1"})).status_code == 403
    bad_node = await api.put(f"/equipment/{ids[-1]}/node-bindings/state", "erin", json={"node_id": "Press1.State"})
    assert bad_node.status_code == 422 and "Press1.State" in bad_node.json()["detail"]
    assert (await api.put("/equipment/2147483647/node-bindings/state", "erin",
                          json={"node_id": "ns=1;s=x"})).status_code == 404


async def test_a_binding_takes_engineering_limits_and_refusals_name_the_field(api: Api) -> None:
    name = f"Ent{secrets.token_hex(3)}"
    ids: list[int] = []
    for level, node in (("enterprise", name), ("site", "S"), ("area", "A"), ("work_center", "L"),
                        ("work_unit", "Press1")):
        response = await api.post("/equipment", "erin", json={"name": node, "level": level,
                                                               "parent_id": ids[-1] if ids else None})
        ids.append(response.json()["id"])
    url = f"/equipment/{ids[-1]}/node-bindings/Setpoints.Pressure"
    node = {"node_id": "nsu=urn:smart-mom:plant-sim;s=Press1.Setpoints.Pressure", "access": "read_write"}
    bound = await api.put(url, "erin", json={**node, "min_value": 0, "max_value": 8.5})
    assert bound.status_code == 200, bound.text
    assert (bound.json()["min_value"], bound.json()["max_value"]) == (0.0, 8.5)
    shown = (await api.get(f"/equipment/{ids[-1]}", "otto")).json()["node_bindings"]
    assert [(b["name"], b["min_value"], b["max_value"]) for b in shown] == [("Setpoints.Pressure", 0.0, 8.5)]

    upside_down = await api.put(url, "erin", json={**node, "min_value": 9, "max_value": 8})
    assert upside_down.status_code == 422 and "max_value" in upside_down.text, upside_down.text
    for raw in ('NaN', 'Infinity', '1e999'):
        body = '{"node_id": "' + node["node_id"] + '", "max_value": ' + raw + '}'
        headers = {**(await api.as_("erin")), "content-type": "application/json"}
        refused = await api.http.put(url, content=body, headers=headers)
        assert refused.status_code == 422 and "max_value" in refused.text, (raw, refused.text)
    assert (await api.put(url, "sam", json={**node, "max_value": 1})).status_code == 403
    kept = (await api.get(f"/equipment/{ids[-1]}", "otto")).json()["node_bindings"]
    assert [(b["min_value"], b["max_value"]) for b in kept] == [(0.0, 8.5)]
