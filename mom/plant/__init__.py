"""The plant simulator: PackML machines with ISA-95 job control, served over OPC UA.

- :mod:`mom.plant.packml` - the PackML state machine (pure).
- :mod:`mom.plant.job_order` - recipes and job orders (pure).
- :mod:`mom.plant.machine` - a simulated machine: parts, breakdowns, drift, alarms (pure, seeded).
- :mod:`mom.plant.server` - one asyncua server per machine; its docstring is the address space.
- :mod:`mom.plant.simulator` - N machines on consecutive ports (``mom plant sim``).

This package is a server: it never imports the client connector (``connectors``).
"""
