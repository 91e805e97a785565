"""Web UI tests: Playwright driving Debian's Chromium against the served UI."""
