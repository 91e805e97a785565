"""``mom demo``: a shift on the simulated plant, end to end on the embedded stack.

- :mod:`mom.demo.seed` - the demo plant in the database (several presses and coaters, stock, orders).
- :mod:`mom.demo.plant` - the embedded stack in-process: Temporal dev server, cloud and edge workers,
  simulated machines on loopback ports, the machine monitor, the reference processes deployed.
- :mod:`mom.demo.people` - scripted operators, inspectors, maintenance technicians and supervisors
  working the inbox.
- :mod:`mom.demo.scenario` - the shift: orders released, a breakdown, a quantity change, an ECO,
  a quality deviation; its report says whether everything that should complete did.
- :mod:`mom.demo.progress` - rich progress bars and the summary tables (CLI side only).
"""
