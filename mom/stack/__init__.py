"""Starting the embedded stack: Temporal dev server, worker, API and plant simulator."""
