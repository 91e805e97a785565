from __future__ import annotations

import pytest
from asyncua import ua

from connectors.opcua import InvalidNodeId, parse_node_id
from connectors.opcua.node_ids import format_node_id
from connectors.opcua.values import TypeMismatch, ValueType, to_variant


def test_node_ids_name_namespaces_by_uri_or_index():
    ref = parse_node_id("nsu=urn:smart-mom:plant-sim;s=Press1.State")
    assert (ref.uri, ref.identifier) == ("urn:smart-mom:plant-sim", "s=Press1.State")
    assert ref.with_index(3) == ua.NodeId("Press1.State", 3)
    assert parse_node_id("ns=2;i=5").with_index(2) == ua.NodeId(5, 2)
    assert parse_node_id("i=85").index == 0
    assert str(parse_node_id("nsu=urn:x;s=A")) == "nsu=urn:x;s=A"
    assert format_node_id(ua.NodeId("A.B", 1), ["http://opcfoundation.org/UA/", "urn:x"]) == "nsu=urn:x;s=A.B"


@pytest.mark.parametrize("text", ["Press1.State", "ns=x;s=A", "nsu=urn:x", "ns=1;q=A", "ns=1;i=notanumber"])
def test_malformed_node_ids_are_refused_with_the_text(text):
    with pytest.raises(InvalidNodeId, match="node id"):
        parse_node_id(text)


def test_values_are_converted_to_the_node_type():
    assert to_variant(6.5, ValueType(ua.VariantType.Double)) == ua.Variant(6.5, ua.VariantType.Double)
    assert to_variant(3, ValueType(ua.VariantType.Double)).Value == 3.0
    assert to_variant("42", ValueType(ua.VariantType.Int32), from_text=True) == ua.Variant(42, ua.VariantType.Int32)
    assert to_variant("true", ValueType(ua.VariantType.Boolean), from_text=True).Value is True
    assert to_variant("[1, 2]", ValueType(ua.VariantType.UInt16, is_array=True), from_text=True).Value == [1, 2]


@pytest.mark.parametrize(
    ("value", "vtype", "detail"),
    [
        ("6.5", ua.VariantType.Double, "a number is needed"),
        (True, ua.VariantType.Int32, "an integer is needed"),
        (2.5, ua.VariantType.Int32, "an integer is needed"),
        (70000, ua.VariantType.UInt16, "out of range 0..65535"),
        (-1, ua.VariantType.UInt32, "out of range"),
        (5, ua.VariantType.String, "a string is needed"),
        ("yes please", ua.VariantType.Boolean, "use true or false"),
    ],
)
def test_values_that_do_not_fit_are_refused(value, vtype, detail):
    with pytest.raises(TypeMismatch, match=detail):
        to_variant(value, ValueType(vtype))
