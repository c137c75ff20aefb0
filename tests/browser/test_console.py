"""The web console in a real headless Chromium (API.md section 19): each role logs in and
lands on its main screen, through the fixed data-testid ids; an operator files a case and
sees its number; a clerk's inbox takes a new case without a reload; a manager sees the chart
and the rates table; the intake form on a 375-pixel-wide phone; a case text is shown as text,
never run; no page logs a console error."""
import re
import time

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from browser import browser, make_login, page, server  # noqa: F401 (fixtures)

CASE = {"text": "风光路与解放路交叉口每天早上有人占道摆摊，车都过不去", "district": "驿城区"}


def create_case(server, token, **extra):
    status, _, case = server.request("POST", "/v1/cases", dict(CASE, **extra), token=token)
    assert status == 201, case
    return case


def test_operator_files_a_case_and_sees_its_number(server, page):
    earlier = create_case(server, server.make_user("operator"), text="小区门口有人占道摆摊，请城管处理一下",
                          caller={"name": "张先生", "phone": "13800001111"})
    login, password, _ = make_login(server, "operator")
    assert page.login(server, login, password) == "#/intake"
    page.testid("case-text").send_keys("小区门口有人占道摆摊，请城管处理")
    page.testid("case-district").send_keys("驿城区")
    page.driver.find_element(By.CSS_SELECTOR, "input[type=tel]").send_keys("13800001111")
    # the routing preview follows the text; the caller's history and the similar open case show
    main = page.driver.find_element(By.ID, "main")
    page.wait(lambda d: "派往：市城市管理局" in main.text)
    page.wait(lambda d: "近 90 天来电 1 次" in main.text and main.text.count(earlier["number"]) >= 2)
    page.testid("case-submit").click()
    number = page.testid("case-number").text
    assert re.fullmatch(r"\d{8}-\d{6}", number), number
    page.driver.execute_script("window.scrollTo(0, 0)")
    page.screenshot("console-operator")
    status, _, found = server.request("GET", "/v1/cases?q=%E5%B0%8F%E5%8C%BA%E9%97%A8%E5%8F%A3", token=server.admin_token)
    assert number in [c["number"] for c in found["items"]]


def test_clerk_sees_the_inbox_and_a_new_case_without_a_reload(server, page):
    op = server.make_user("operator")
    first = create_case(server, op, department="urban_mgmt")
    login, password, _ = make_login(server, "department", "urban_mgmt")
    assert page.login(server, login, password) == "#/inbox"
    page.wait(lambda d: any(r.get_attribute("data-case-id") == str(first["id"]) for r in page.all_testid("inbox-row")))
    page.driver.execute_script("window.__notReloaded = true")
    # a case dispatched meanwhile (from the pool) appears on its own
    later = create_case(server, op)
    if later["state"] == "pending":
        assert server.request("POST", "/v1/cases/%d/dispatch" % later["id"], {"department": "urban_mgmt"},
                              token=op)[0] == 200
    else:
        later = create_case(server, op, department="urban_mgmt")
    page.wait(lambda d: any(r.get_attribute("data-case-id") == str(later["id"]) for r in page.all_testid("inbox-row")),
              timeout=15)
    assert page.driver.execute_script("return window.__notReloaded") is True
    page.screenshot("console-department")


def test_manager_sees_the_chart_and_the_rates_table(server, page):
    op = server.make_user("operator")
    create_case(server, op, department="urban_mgmt")
    login, password, _ = make_login(server, "manager")
    assert page.login(server, login, password) == "#/dashboard"
    table = page.testid("rates-table")
    page.wait(lambda d: len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 1)
    assert "市城市管理局" in table.text
    chart = page.testid("dashboard-chart")
    assert chart.find_elements(By.CSS_SELECTOR, "canvas, svg")
    # opened on the current month
    month = page.driver.execute_script("return document.querySelector('[data-testid=dashboard-month]').value")
    assert month == time.strftime("%Y-%m", time.localtime())
    time.sleep(0.5)  # let the chart finish its animation for the picture
    page.screenshot("console-manager")


def test_the_intake_form_on_a_375_pixel_phone(server, page):
    login, password, _ = make_login(server, "operator")
    page.driver.set_window_size(375, 812)
    assert page.login(server, login, password) == "#/intake"
    text = page.testid("case-text")
    assert text.size["width"] <= 375
    wide = page.driver.execute_script("return document.documentElement.scrollWidth")
    assert wide <= page.driver.execute_script("return window.innerWidth"), wide
    text.send_keys("路灯不亮，晚上出行不便")
    page.testid("case-district").send_keys("驿城区")
    page.screenshot("console-mobile")
    page.testid("case-submit").click()
    assert re.fullmatch(r"\d{8}-\d{6}", page.testid("case-number").text)


def test_a_case_text_is_shown_as_text(server, page):
    hostile = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
    op = server.make_user("operator")
    case = create_case(server, op, department="urban_mgmt", text=hostile, title="<b>标题</b>")
    login, password, _ = make_login(server, "department", "urban_mgmt")
    page.login(server, login, password)
    page.wait(lambda d: any(r.get_attribute("data-case-id") == str(case["id"]) for r in page.all_testid("inbox-row")))
    page.driver.get(server.url + "/app/#/case/%d" % case["id"])
    page.wait(lambda d: hostile in d.find_element(By.ID, "main").text)
    assert "<b>标题</b>" in page.driver.find_element(By.ID, "main").text
    assert not page.driver.find_elements(By.CSS_SELECTOR, "#main img, #main script, #main b")
    assert page.driver.execute_script("return window.__xss") is None
    try:
        page.driver.switch_to.alert
        raise AssertionError("an alert opened")
    except NoAlertPresentException:
        pass


def test_clerk_signs_a_case_on_its_page(server, page):
    op = server.make_user("operator")
    case = create_case(server, op, department="urban_mgmt")
    login, password, _ = make_login(server, "department", "urban_mgmt")
    page.login(server, login, password)
    page.driver.get(server.url + "/app/#/case/%d" % case["id"])
    button = page.wait(lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "#main button") if b.text == "签收"])[0]
    button.click()
    page.wait(lambda d: "已签收" in d.find_element(By.ID, "main").text)
    status, _, now = server.request("GET", "/v1/cases/%d" % case["id"], token=op)
    assert now["state"] == "accepted"


def test_admin_pages(server, page):
    login, password, _ = make_login(server, "admin")
    assert page.login(server, login, password) == "#/users"
    page.wait(lambda d: login in d.find_element(By.ID, "main").text)
    for path, text in (("#/rules", "占道"), ("#/sla", "rectify"), ("#/calendar", "holidays"), ("#/cases", "工单查询")):
        page.driver.get(server.url + "/app/" + path)
        page.wait(lambda d: text in (d.find_element(By.ID, "main").text +
                                     d.execute_script("return [...document.querySelectorAll('textarea')].map(t => t.value).join()")))


def test_a_wrong_password_is_refused_in_chinese(server, browser):
    login, _, _ = make_login(server, "operator")
    d = browser.driver
    browser.forget_session(server)
    d.get(server.url + "/app/#/login")
    browser.testid("login-login").send_keys(login)
    browser.testid("login-password").send_keys("not the password")
    browser.testid("login-submit").click()
    browser.wait(lambda drv: "登录名或密码错误" in drv.find_element(By.ID, "main").text)
    assert d.execute_script("return sessionStorage.getItem('hotline.session')") is None
    browser.console_errors()  # the 401 itself is logged by Chromium: expected here


def test_the_session_lives_in_session_storage_only(server, page):
    login, password, _ = make_login(server, "manager")
    page.login(server, login, password)
    d = page.driver
    assert d.execute_script("return JSON.parse(sessionStorage.getItem('hotline.session')).token").startswith("hl_")
    assert d.execute_script("return localStorage.length") == 0
    assert not d.get_cookies()
