"""The simulated plant the reference-process tests run on (shared by tests/processes)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from mom.db.orders import create_production_order
from mom.db.transactions import writing
from mom.plant.server import MachineServer
from mom.plant_setup import PRODUCT, DemoPlant
from mom.process_store import ProcessStore

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Plant:
    client: Client
    task_queue: str
    data_dir: Path
    store: ProcessStore
    sessions: sessionmaker[Session]
    layout: DemoPlant
    machines: dict[str, MachineServer]

    def receive_order(self, order_number: str, quantity: int) -> None:
        """The order as ERP sends it (received, exploded into job orders by the routing)."""
        with writing(self.sessions) as session:
            create_production_order(session, order_number=order_number, product_code=PRODUCT,
                                    quantity=quantity, actor="erp")
