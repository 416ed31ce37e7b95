"""Test-only fault injection, to show that the reliability checks fail when a fault is real
(tests/reliability/test_checks_fail.py). Never set in production: OTOP_TEST_FAULTS lists faults as
`<fault>:<consumer group>`, comma-separated, each made once per process:

- `drop-one:<group>`: a batch consumer skips the first record of a batch and commits its offset: an event
lost;
- `apply-twice:sales.ingress`: the POS ingress records one message as two sales: an event applied twice.
"""

import logging
import os

log = logging.getLogger(__name__)
_armed = {
    tuple(item.strip().split(":", 1))
    for item in os.environ.get("OTOP_TEST_FAULTS", "").split(",")
    if ":" in item
}
if _armed:
    log.warning("TEST FAULTS ARMED (OTOP_TEST_FAULTS): %s", sorted(_armed))


def strike(fault: str, group: str) -> bool:
    """True the first time `fault` is armed for `group` in this process (and then disarmed)."""
    if (fault, group) not in _armed:
        return False
    _armed.discard((fault, group))
    log.warning("test fault %s injected into %s", fault, group)
    return True
