"""The machine monitor: what the machines report, recorded and turned into process events.

- :mod:`mom.monitoring.rules` - pure: observations, correlated messages (job completed, alarm on
  the machine of job J) and exception processes started by rule (alarm code -> process id).
- :mod:`mom.monitoring.recorder` - machine events written to the database in batches.
- :mod:`mom.monitoring.monitor` - subscriptions to every configured work unit (OPC UA), the
  composition of the above; ``mom monitor`` runs it next to the machines.

A composition module: it may import ``connectors`` and ``mom.db`` (which never import each other).
"""
