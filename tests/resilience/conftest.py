"""Fixtures the resilience tests share with the tests of the parts they break."""

from tests.models.test_download import hub, smol_source  # noqa: F401 - the fake hub and the file it serves
