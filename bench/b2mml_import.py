"""How long a B2MML schedule import takes: parse, then store (one transaction), for N production
requests of one product with a two-operation routing (two job orders each), on a fresh database.

    PYTHONPATH=$PWD .venv/bin/python bench/b2mml_import.py --requests 1000 10000 [--database URL]

A document carries at most ``mom.b2mml.MAX_SCHEDULE_REQUESTS`` requests; larger counts are parsed in
documents of that size and stored in one transaction, to show what the data layer costs."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mom.b2mml import MAX_SCHEDULE_REQUESTS, read_production_schedule
from mom.db import create_database_engine, create_session_factory
from mom.db.equipment import add_equipment
from mom.db.exchange import import_production_schedule
from mom.db.materials import add_material_definition
from mom.db.migrate import upgrade_database
from mom.db.products import OperationSpec, add_revision, create_product
from mom.db.transactions import writing
from mom.domain import EquipmentLevel
from mom.domain.exchange import ProductionSchedule

REQUEST = ("<ProductionRequest><ID>PO-{tag}-{n}</ID><ProductProductionRuleID>BRK</ProductProductionRuleID>"
           "<EndTime>2026-03-05T12:00:00Z</EndTime><MaterialProducedRequirement>"
           "<MaterialDefinitionID>BRK</MaterialDefinitionID><Quantity><QuantityString>{n}.125</QuantityString>"
           "<UnitOfMeasure>pcs</UnitOfMeasure></Quantity></MaterialProducedRequirement></ProductionRequest>")


def document(tag: int, first: int, count: int) -> bytes:
    requests = "".join(REQUEST.format(tag=tag, n=n) for n in range(first, first + count))
    return (f'<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>S{first}</ID>{requests}'
            "</ProductionSchedule>").encode()


def seed(url: str) -> None:
    engine = create_database_engine(url)
    with writing(create_session_factory(engine)) as session:
        acme = add_equipment(session, name="Acme", level=EquipmentLevel.ENTERPRISE)
        site = add_equipment(session, name="Lyon", level=EquipmentLevel.SITE, parent_id=acme.id)
        area = add_equipment(session, name="Pressing", level=EquipmentLevel.AREA, parent_id=site.id)
        line = add_equipment(session, name="Line", level=EquipmentLevel.WORK_CENTER, parent_id=area.id)
        add_material_definition(session, code="BRK", name="Bracket", unit="pcs")
        create_product(session, code="BRK", name="Bracket", material_code="BRK")
        add_revision(session, product_code="BRK", revision="A", effective_from=datetime(2020, 1, 1, tzinfo=UTC),
                     operations=[OperationSpec(10, "Blank", line.path), OperationSpec(20, "Form", line.path)])
    engine.dispose()


def run(url: str, count: int) -> tuple[float, float]:
    started = time.perf_counter()
    size = MAX_SCHEDULE_REQUESTS
    parts = [read_production_schedule(document(count, first, min(size, count - first)), f"S{first}.xml")
             for first in range(0, count, size)]
    schedule = ProductionSchedule(id="BENCH", requests=tuple(r for p in parts for r in p.requests))
    parsed = time.perf_counter()
    engine = create_database_engine(url)
    with writing(create_session_factory(engine)) as session:
        orders = import_production_schedule(session, schedule=schedule, actor="bench")
        assert len(orders) == count
    engine.dispose()
    return parsed - started, time.perf_counter() - parsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--database", help="a database URL (default: a new SQLite file per count)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for count in args.requests:
            url = args.database or f"sqlite:///{Path(directory) / f'bench{count}.db'}"
            upgrade_database(url, actor="bench")
            if count == args.requests[0] or not args.database:
                seed(url)
            parse_s, store_s = run(url, count)
            sys.stdout.write(f"{count:>6} requests: parse {parse_s:6.2f} s, store {store_s:6.2f} s "
                             f"({count / store_s:,.0f} orders/s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
