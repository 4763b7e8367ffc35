"""Teams credentials from the environment become botbuilder's configuration, or a clear error."""

from __future__ import annotations

import pytest

from adapters.teams.adapter import bot_configuration
from tests.teams.conftest import teams_settings

APP_ID = "00000000-1111-2222-3333-444444444444"


def test_without_credentials_authentication_is_off():
    config = bot_configuration(teams_settings("sqlite://"))
    assert (config.APP_ID, config.APP_PASSWORD, config.APP_TYPE) == (None, None, "MultiTenant")


def test_single_tenant_credentials_are_passed_with_the_secret_unwrapped():
    settings = teams_settings("sqlite://", microsoft_app_id=APP_ID, microsoft_app_password="s3cret",
                              microsoft_app_type="singletenant", microsoft_app_tenant_id="tenant-guid")
    config = bot_configuration(settings)
    assert (config.APP_ID, config.APP_PASSWORD, config.APP_TENANTID, config.APP_TYPE) == (
        APP_ID, "s3cret", "tenant-guid", "SingleTenant")


def test_a_managed_identity_needs_no_password():
    settings = teams_settings("sqlite://", microsoft_app_id=APP_ID, microsoft_app_type="UserAssignedMSI",
                              microsoft_app_tenant_id="tenant-guid")
    assert settings.teams_credentials
    assert bot_configuration(settings).APP_TYPE == "UserAssignedMSI"


@pytest.mark.parametrize(("app_type", "tenant", "message"), [
    ("SomeTenant", None, "is not one of MultiTenant, SingleTenant or UserAssignedMSI"),
    ("SingleTenant", None, "needs MICROSOFT_APP_TENANT_ID"),
])
def test_an_incomplete_configuration_says_what_to_set(app_type, tenant, message):
    settings = teams_settings("sqlite://", microsoft_app_id=APP_ID, microsoft_app_password="s3cret",
                              microsoft_app_type=app_type, microsoft_app_tenant_id=tenant)
    with pytest.raises(ValueError, match=message):
        bot_configuration(settings)
