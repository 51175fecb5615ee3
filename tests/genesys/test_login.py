"""Login hardening: throttling and lockout (django-axes), optional TOTP (django-otp), sessions."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        username="maria", password="a-long-password-123", is_staff=True, is_superuser=True
    )


def _login(client: Client, password: str, **extra):
    return client.post(LOGIN, {"username": "maria", "password": password, "next": INDEX, **extra})


def test_the_admin_login_works_with_the_password(staff):
    client = Client()
    response = _login(client, "a-long-password-123")
    assert response.status_code == 302 and response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(settings, staff):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    response = _login(client, "wrong")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    response = _login(client, "a-long-password-123")
    assert response.status_code == 429
    assert client.get(INDEX).status_code == 302  # still not logged in


def test_a_success_before_the_limit_resets_the_count(settings, staff):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "a-long-password-123").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200


def _device(user, *, confirmed=True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_staff_with_a_confirmed_device_must_give_its_code(staff):
    device = _device(staff)
    client = Client()
    response = _login(client, "a-long-password-123")
    assert response.status_code == 200  # the form again
    assert client.get(INDEX).status_code == 302
    response = _login(
        client, "a-long-password-123", otp_token="000000" if _code(device) != "000000" else "111111"
    )
    assert response.status_code == 200
    # A wrong code throttles the device for a second (doubling); stand for that second passing.
    device.refresh_from_db()
    device.throttle_reset()
    response = _login(client, "a-long-password-123", otp_token=_code(device))
    assert response.status_code == 302 and response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200


def test_a_session_not_verified_with_the_device_is_not_let_in(staff):
    _device(staff)
    client = Client()
    client.force_login(staff)  # e.g. a session opened before the device was enrolled
    response = client.get(INDEX)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_an_unconfirmed_device_does_not_lock_its_owner_out(staff):
    _device(staff, confirmed=False)
    client = Client()
    assert _login(client, "a-long-password-123").status_code == 302
    assert client.get(INDEX).status_code == 200


def test_the_login_page_offers_the_code_field():
    page = Client().get(LOGIN).content.decode()
    assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page


def test_the_enrolment_qr_code_is_shown_to_admins(staff, role_client):
    device = _device(staff, confirmed=False)
    response = role_client("admin").get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
