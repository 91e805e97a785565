"""The plant simulator: N simulated machines, one OPC UA server each on consecutive ports.

Machine names cycle through kinds (Press1, Mill2, Lathe3, Oven4, Press5...). Each machine's
cycle time, scrap rate and MTBF vary around the configured means, drawn from ``seed``, so the same
seed gives the same plant. ``speed`` scales simulated time (tests use 50-100x).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace

from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer, ServerSecurity

MACHINE_KINDS = ("Press", "Mill", "Lathe", "Oven")


@dataclass(frozen=True)
class PlantConfig:
    machines: int = 3
    seed: int = 0
    host: str = "127.0.0.1"
    base_port: int = 4840
    speed: float = 1.0
    tick_s: float = 0.05
    sensors: int = 0
    template: MachineConfig = field(default_factory=lambda: MachineConfig(name="template"))
    security: ServerSecurity | None = None


def machine_name(index: int) -> str:
    """``index`` counts from 1."""
    return f"{MACHINE_KINDS[(index - 1) % len(MACHINE_KINDS)]}{index}"


def machine_configs(config: PlantConfig) -> list[MachineConfig]:
    rng = random.Random(f"plant:{config.seed}")
    t = config.template
    return [
        replace(
            t,
            name=machine_name(i),
            cycle_time_s=round(t.cycle_time_s * rng.uniform(0.7, 1.3), 3),
            bad_rate=round(t.bad_rate * rng.uniform(0.5, 1.5), 4),
            mtbf_s=round(t.mtbf_s * rng.uniform(0.6, 1.4), 1),
        )
        for i in range(1, config.machines + 1)
    ]


class PlantSimulator:
    def __init__(self, config: PlantConfig) -> None:
        self.config = config
        self.servers = [
            MachineServer(
                SimulatedMachine(machine, seed=config.seed),
                config.base_port + i,
                host=config.host,
                speed=config.speed,
                tick_s=config.tick_s,
                sensors=config.sensors,
                security=config.security,
            )
            for i, machine in enumerate(machine_configs(config))
        ]

    @property
    def endpoints(self) -> dict[str, str]:
        return {s.name: s.endpoint for s in self.servers}

    async def start(self) -> None:
        try:
            for server in self.servers:
                await server.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers), return_exceptions=True)

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
