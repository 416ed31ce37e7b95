"""Debian's Chromium as the browser tests, the first-paint benchmark and the console screenshots run it:
on a machine without a GPU or a sandbox user, and quiet (no background networking, component updates,
sync, first-run pages or QUIC)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
