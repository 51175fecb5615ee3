"""The browser harness itself: an operator logs in and reaches the admin in Portuguese."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_operator_logs_in_through_the_form_and_sees_the_admin(page, browser_user, login, screenshot):
    operator = browser_user("operator")

    login(page, operator)

    assert page.locator("#site-name, #header").first.is_visible()
    assert page.evaluate("document.documentElement.lang").startswith("pt")
    assert screenshot(page, "login-home").stat().st_size > 0


def test_a_wrong_password_stays_on_the_login_page(page, browser_user):
    operator = browser_user("operator")

    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("input[type=submit], button[type=submit]")

    assert "/admin/login/" in page.url
    assert page.locator(".errornote").is_visible()
