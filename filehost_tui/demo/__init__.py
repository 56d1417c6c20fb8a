"""Fake file hosts on 127.0.0.1: every protocol family, with recording and fault injection.

Used by the tests and by `filehost-tui demo`; see `fake_server.FakeHost`.
"""

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.demo.families import FAMILIES
from filehost_tui.demo.faults import KINDS as FAULT_KINDS
from filehost_tui.demo.faults import Fault
from filehost_tui.demo.recording import ReceivedFile, RequestRecord

__all__ = ["FAMILIES", "FAULT_KINDS", "FakeHost", "Fault", "ReceivedFile", "RequestRecord"]
